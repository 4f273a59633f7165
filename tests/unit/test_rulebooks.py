"""Tests of the shipped rulebooks (config/rulebooks/*.yaml) and of rulebook validation.

Pure: no database. Every transition of every rulebook is fired on a snapshot with
workflow.core.machine.fire: allowed from its source states (with facts that satisfy its
guards and fail those of the transitions listed before it), refused with
CommandNotAllowed from every other state.
"""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from config.settings import RULEBOOK_DIR, Settings
from workflow.commands.registry import COMMANDS
from workflow.core import machine
from workflow.core.errors import CommandNotAllowed, GuardRefused, RulebookInvalid
from workflow.core.facts import ALL_FACTS
from workflow.core.guards import GUARDS
from workflow.core.rulebook import START, Rulebook, TransitionDef, load_directory, parse, validate
from workflow.runtime import load_rulebooks

REGISTRY = load_rulebooks(Settings())
RULEBOOKS = {rb.id: rb for rb in REGISTRY.all()}
SHIPPED = [
    "england-2018",
    "england-2023",
    "england-panel-2025",
    "england-scr-2006",
    "england-scr-2010",
    "england-scr-2013",
    "england-scr-2015",
    "northern-ireland-cmr-2012",
    "scotland-learning-review-2021",
    "wales-cpr-2012",
    "wales-susr-2024",
]
CSPR = ["england-2018", "england-2023", "england-panel-2025"]

# Facts that make each guard true / false.
TRUE: dict[str, dict[str, Any]] = {
    "incident_is_notifiable": {"notifiable": True},
    "meets_rapid_review_criteria": {"meets_review_criteria": True},
    "panel_takes_national_review": {"panel_takes_national_review": True},
    "decision_is_local_review": {"decision": "local_review"},
    "decision_is_no_review": {"decision": "no_review"},
    "reviewer_declared_independent": {"reviewer_independent": True},
    "report_sent_to_panel": {"report_sent_to_panel_date": date(2025, 3, 3)},
    "action_plan_complete": {"open_actions": 0, "unactioned_recommendations": 0},
    "is_thematic_review": {"kind": "thematic"},
    "learning_carried_by_thematic": {"carried_by_thematic": True},
    "report_published": {"published_date": date(2025, 8, 20)},
}
FALSE: dict[str, dict[str, Any]] = {
    "incident_is_notifiable": {"notifiable": False},
    "meets_rapid_review_criteria": {"meets_review_criteria": False},
    "panel_takes_national_review": {"panel_takes_national_review": False},
    "decision_is_local_review": {"decision": "national_review_recommended"},
    "decision_is_no_review": {"decision": "national_review_recommended"},
    "reviewer_declared_independent": {"reviewer_independent": False},
    "report_sent_to_panel": {"report_sent_to_panel_date": None},
    "action_plan_complete": {"open_actions": 0, "unactioned_recommendations": 1},
    "is_thematic_review": {"kind": "incident"},
    "learning_carried_by_thematic": {"carried_by_thematic": False},
    "report_published": {"published_date": None},
}


def _cases() -> list[tuple[str, int, str]]:
    return [
        (rb.id, i, source)
        for rb in RULEBOOKS.values()
        for i, t in enumerate(rb.transitions)
        for source in t.source
    ]


def _facts_for(rb: Rulebook, index: int, source: str) -> dict[str, Any]:
    """Facts passing transition `index`'s guards and failing every earlier candidate."""
    t = rb.transitions[index]
    facts: dict[str, Any] = {}
    for earlier in rb.transitions[:index]:
        if earlier.trigger != t.trigger or source not in earlier.source:
            continue
        failing = [g for g in earlier.guards if g not in t.guards]
        assert failing, f"{rb.id}: transition #{index} ({t.trigger} from {source}) is shadowed"
        facts.update(FALSE[failing[0]])
    for g in t.guards:
        facts.update(TRUE[g])
    return facts


# --- the shipped rulebooks --------------------------------------------------------------


def test_every_shipped_rulebook_loads_and_validates() -> None:
    assert sorted(RULEBOOKS) == SHIPPED
    for rb in RULEBOOKS.values():
        assert (
            validate(rb, known_guards=GUARDS, known_triggers=COMMANDS, known_facts=ALL_FACTS) == []
        ), rb.id
        assert rb.deadlines, rb.id
        assert all(d.source for d in rb.deadlines)


def test_guard_facts_table_is_complete() -> None:
    assert set(TRUE) == set(FALSE) == set(GUARDS)
    for name, guard in GUARDS.items():
        assert guard.check(TRUE[name]), name
        assert not guard.check(FALSE[name]), name


@pytest.mark.parametrize(
    ("rulebook_id", "start", "end"),
    [
        ("england-scr-2006", date(2006, 4, 1), date(2010, 3, 25)),
        ("england-scr-2010", date(2010, 3, 26), date(2013, 4, 14)),
        ("england-scr-2013", date(2013, 4, 15), date(2015, 3, 25)),
        ("england-scr-2015", date(2015, 3, 26), date(2019, 9, 28)),
        ("england-2018", date(2018, 6, 29), date(2023, 12, 14)),
        ("england-2023", date(2023, 12, 15), None),
        ("england-panel-2025", date(2025, 6, 1), None),
    ],
)
def test_effective_dates(rulebook_id: str, start: date, end: date | None) -> None:
    rb = RULEBOOKS[rulebook_id]
    assert (rb.effective_from, rb.effective_to) == (start, end)


def test_clock_start_and_care_leavers() -> None:
    assert RULEBOOKS["england-panel-2025"].rapid_review_clock_start == "notification_date"
    assert RULEBOOKS["england-2023"].rapid_review_clock_start == "aware_date"
    assert RULEBOOKS["england-2018"].rapid_review_clock_start == "aware_date"
    # 2018 had no care-leaver notification; 2023 added it.
    assert "care leaver" not in RULEBOOKS["england-2018"].state("notified_no_review").description
    assert "care leaver" in RULEBOOKS["england-2023"].state("notified_no_review").description
    # every deadline counts from the fact the rulebook's clock start names
    for rb in (RULEBOOKS[i] for i in CSPR):
        rr = next(d for d in rb.deadlines if d.name == "rapid_review_sent")
        assert rr.from_fact == rb.rapid_review_clock_start


@pytest.mark.parametrize(("rulebook_id", "index", "source"), _cases())
def test_transition_allowed_from_its_source(rulebook_id: str, index: int, source: str) -> None:
    rb = RULEBOOKS[rulebook_id]
    t: TransitionDef = rb.transitions[index]
    moved = machine.fire(rb, source, _facts_for(rb, index, source), t.trigger)
    assert moved.to_state == (t.dest or source)
    assert moved.from_state == source


@pytest.mark.parametrize("rulebook_id", SHIPPED)
def test_every_trigger_refused_from_every_other_state(rulebook_id: str) -> None:
    rb = RULEBOOKS[rulebook_id]
    states = [START, *(s.name for s in rb.states)]
    checked = 0
    for trigger in COMMANDS:
        sources = {s for t in rb.transitions if t.trigger == trigger for s in t.source}
        for state in states:
            if state in sources:
                continue
            with pytest.raises(CommandNotAllowed) as caught:
                machine.fire(rb, state, {}, trigger)
            assert not isinstance(caught.value, GuardRefused), (trigger, state)
            assert caught.value.current_state == state
            checked += 1
    assert checked > 100


@pytest.mark.parametrize("rulebook_id", SHIPPED)
def test_final_state_and_start(rulebook_id: str) -> None:
    rb = RULEBOOKS[rulebook_id]
    # A withdrawn notification (issue 17) is final too: nothing more is done under it.
    withdrawn = {"notification_withdrawn"} if rulebook_id.startswith("england") else set()
    assert rb.final_states == {"closed", *withdrawn}
    assert all(rb.triggers_from(s) == [] for s in withdrawn)
    # Only a fact may be recorded on a closed case: the report's withdrawal.
    assert rb.triggers_from("closed") == ["withdraw_publication"]
    assert all(t.dest is None for t in rb.transitions if "closed" in t.source)
    thematic = ["open_thematic_review"] if rulebook_id in CSPR else []
    assert rb.triggers_from(START) == ["log_incident", *thematic]


# --- guards pick the documented branch --------------------------------------------------


def fire(rb: Rulebook, state: str, trigger: str, **facts: Any) -> str:
    return machine.fire(rb, state, facts, trigger).to_state


@pytest.mark.parametrize("rulebook_id", CSPR)
def test_cspr_branches(rulebook_id: str) -> None:
    rb = RULEBOOKS[rulebook_id]
    assert fire(rb, START, "log_incident", notifiable=True) == "notification_due"
    assert fire(rb, START, "log_incident", notifiable=False) == "not_notifiable"
    # a serious incident gets a rapid review; a looked-after child's death without
    # abuse or neglect is only notified
    assert (
        fire(rb, "notification_due", "record_notification", meets_review_criteria=True)
        == "rapid_review"
    )
    assert (
        fire(rb, "notification_due", "record_notification", meets_review_criteria=False)
        == "notified_no_review"
    )
    assert fire(rb, "rapid_review", "record_partners_informed") == "rapid_review"
    assert fire(rb, "rapid_review", "complete_rapid_review") == "decision_due"
    assert fire(rb, "decision_due", "record_decision") == "panel_response_due"
    response = "record_panel_response"
    # the Panel taking a national review wins over the local decision
    assert (
        fire(
            rb,
            "panel_response_due",
            response,
            panel_takes_national_review=True,
            decision="local_review",
        )
        == "national_review"
    )
    assert (
        fire(rb, "panel_response_due", response, decision="local_review")
        == "reviewer_commissioning"
    )
    assert fire(rb, "panel_response_due", response, decision="no_review") == "no_review"
    # a recommended national review the Panel declines goes back for a new decision
    assert (
        fire(rb, "panel_response_due", response, decision="national_review_recommended")
        == "decision_due"
    )
    with pytest.raises(GuardRefused, match="reviewer_declared_independent"):
        fire(rb, "reviewer_commissioning", "commission_reviewer", reviewer_independent=False)
    assert (
        fire(rb, "reviewer_commissioning", "commission_reviewer", reviewer_independent=True)
        == "terms_of_reference_due"
    )
    assert (
        fire(
            rb,
            "publication_deferred",
            "resume_publication",
            report_sent_to_panel_date=date(2025, 3, 3),
        )
        == "publication_due"
    )
    assert fire(rb, "publication_deferred", "resume_publication") == "pre_publication"
    with pytest.raises(GuardRefused, match="action_plan_complete"):
        fire(rb, "action_plan_monitoring", "close_case", open_actions=1)
    assert fire(rb, "action_plan_monitoring", "close_case", open_actions=0) == "closed"
    assert fire(rb, "national_review", "close_case") == "closed"


def test_scr_branches() -> None:
    rb = RULEBOOKS["england-scr-2015"]
    # every notified incident goes to the LSCB, whatever the s16C criteria say
    for meets in (True, False):
        assert (
            fire(rb, "notification_due", "record_notification", meets_review_criteria=meets)
            == "lscb_decision_due"
        )
    assert fire(rb, "lscb_decision_due", "record_partners_informed") == "lscb_decision_due"
    # `local_review` means "hold an SCR" in this rulebook
    assert (
        fire(rb, "lscb_decision_due", "record_decision", decision="local_review")
        == "scr_commissioning"
    )
    assert fire(rb, "lscb_decision_due", "record_decision", decision="no_review") == "no_scr"
    # no national review route before 2019
    with pytest.raises(GuardRefused, match="decision_is_local_review"):
        fire(rb, "lscb_decision_due", "record_decision", decision="national_review_recommended")
    # the national panel's view is recorded; the LSCB may then decide to hold an SCR
    assert fire(rb, "no_scr", "record_panel_response") == "no_scr"
    assert fire(rb, "no_scr", "record_decision", decision="no_review") == "no_scr"
    assert fire(rb, "no_scr", "record_decision", decision="local_review") == "scr_commissioning"
    assert (
        fire(rb, "scr_commissioning", "commission_reviewer", reviewer_independent=True)
        == "scr_terms_of_reference_due"
    )
    assert fire(rb, "scr_terms_of_reference_due", "agree_terms_of_reference") == "scr_in_progress"
    assert fire(rb, "scr_in_progress", "receive_final_report") == "pre_publication"
    assert fire(rb, "no_scr", "close_case") == "closed"
    # the SCR regime had no rapid review
    for state in ("notification_due", "lscb_decision_due", "no_scr"):
        with pytest.raises(CommandNotAllowed):
            fire(rb, state, "complete_rapid_review")


# --- invalid rulebooks are rejected with a clear message --------------------------------


def _raw(name: str = "england-2023") -> dict[str, Any]:
    with (RULEBOOK_DIR / f"{name}.yaml").open(encoding="utf-8") as fh:
        data: dict[str, Any] = yaml.safe_load(fh)
    return copy.deepcopy(data)


def _problems(data: dict[str, Any]) -> list[str]:
    return validate(
        parse(data, "test"), known_guards=GUARDS, known_triggers=COMMANDS, known_facts=ALL_FACTS
    )


def test_unknown_states_are_named() -> None:
    data = _raw()
    data["transitions"].append({"trigger": "close_case", "source": ["limbo"], "dest": "nowhere"})
    data["deadlines"][0]["applies_in"] = ["notification_due", "purgatory"]
    problems = _problems(data)
    assert "transition 'close_case' has unknown source state 'limbo'" in problems
    assert "transition 'close_case' has unknown destination state 'nowhere'" in problems
    assert "deadline 'panel_notification' applies in unknown state 'purgatory'" in problems


def test_unreachable_state_is_named() -> None:
    data = _raw()
    data["states"].append({"name": "orphan", "stage": "x", "description": "never entered"})
    data["transitions"].append({"trigger": "close_case", "source": ["orphan"], "dest": "closed"})
    assert _problems(data) == ["state 'orphan' is unreachable from 'start'"]


def test_non_final_dead_end_is_named() -> None:
    data = _raw()
    data["states"].append({"name": "limbo", "stage": "x", "description": "no way out"})
    data["transitions"].append(
        {"trigger": "defer_publication", "source": ["notification_due"], "dest": "limbo"}
    )
    assert _problems(data) == ["state 'limbo' is not final and has no way out"]


def test_unknown_guard_trigger_and_fact_are_named() -> None:
    data = _raw()
    data["transitions"][0]["guards"] = ["is_tuesday"]
    data["transitions"].append(
        {"trigger": "teleport", "source": ["rapid_review"], "dest": "closed"}
    )
    data["deadlines"][0]["from_fact"] = "moon_phase_date"
    data["deadlines"][1]["applies_if"] = "is_full_moon"
    problems = _problems(data)
    assert (
        "transition 'log_incident' names guard 'is_tuesday', which the code does not define"
        in problems
    )
    assert "transition 'teleport': no command in the code fires this trigger" in problems
    assert "deadline 'panel_notification' names unknown fact 'moon_phase_date'" in problems
    assert (
        "deadline 'partners_informed' names guard 'is_full_moon', which the code does not define"
    ) in problems


def test_schema_errors_are_rejected_at_parse() -> None:
    data = _raw()
    data["deadlines"][0]["kind"] = "sometime"
    with pytest.raises(RulebookInvalid, match=r"deadlines\.0\.kind"):
        parse(data, "bad-kind.yaml")
    data = _raw()
    data["deadlines"][0]["grace_days"] = 2
    with pytest.raises(RulebookInvalid, match="grace_days"):
        parse(data, "extra-field.yaml")


def test_loading_a_directory_lists_every_problem(tmp_path: Path) -> None:
    data = _raw("england-scr-2015")
    data["transitions"].append({"trigger": "teleport", "source": ["no_scr"], "dest": "nowhere"})
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(RulebookInvalid) as caught:
        load_directory(
            tmp_path,
            default_id="england-scr-2015",
            known_guards=GUARDS,
            known_triggers=COMMANDS,
            known_facts=ALL_FACTS,
        )
    message = str(caught.value)
    assert "england-scr-2015 v1 (bad.yaml)" in message
    assert "unknown destination state 'nowhere'" in message
    assert "no command in the code fires this trigger" in message
