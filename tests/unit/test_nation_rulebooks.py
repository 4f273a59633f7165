"""The Welsh, Scottish and Northern Irish rulebooks: their nations, calendars, dates in
force and deadlines (pure: no database). Every transition of every rulebook is fired by
tests/unit/test_rulebooks.py; tests/integration/test_nation_cases.py drives cases.

Where the guidance gives no number a deadline is an expectation: "expected by", never
overdue, never red. Their due dates are still counted on the nation's own calendar, which
these tests check against the `holidays` package's subdivisions (SCT, NIR, ENG)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest

from config.settings import Settings
from workflow.cases.clock import stored_row
from workflow.commands.registry import COMMANDS
from workflow.core.calendar import calendar_for
from workflow.core.deadlines import DeadlineState, evaluate
from workflow.core.errors import RulebookInvalid, UnknownRulebook
from workflow.core.facts import ALL_FACTS
from workflow.core.guards import GUARDS
from workflow.core.nations import NATIONS, NationBook
from workflow.core.rulebook import DeadlineDef, Rulebook, validate
from workflow.runtime import load_rulebooks

REGISTRY = load_rulebooks(Settings())
NATION_BOOKS = {
    "wales-cpr-2012": ("wales", "england-and-wales"),
    "wales-susr-2024": ("wales", "england-and-wales"),
    "scotland-learning-review-2021": ("scotland", "scotland"),
    "northern-ireland-cmr-2012": ("northern_ireland", "northern-ireland"),
}


def _rule(rulebook_id: str, name: str) -> tuple[Rulebook, DeadlineDef]:
    rb = REGISTRY.get(rulebook_id)
    return rb, next(d for d in rb.deadlines if d.name == name)


def _due(rulebook_id: str, name: str, start: date) -> date | None:
    """The due date of deadline `name` started on `start`, live and not met."""
    rb, rule = _rule(rulebook_id, name)
    status = evaluate(
        rb,
        rule,
        state=rule.applies_in[0],
        facts={rule.from_fact: start, "decision": "local_review"},
        today=start,
        calendar=calendar_for(rb.calendar),
    )
    return status.due_date


@pytest.mark.parametrize(("rulebook_id", "nation_and_calendar"), NATION_BOOKS.items())
def test_each_rulebook_is_of_its_nation_and_counts_on_its_calendar(
    rulebook_id: str, nation_and_calendar: tuple[str, str]
) -> None:
    rb = REGISTRY.get(rulebook_id)
    assert (rb.nation, rb.calendar.value) == nation_and_calendar
    assert all(d.calendar is None for d in rb.deadlines)  # the rulebook's calendar
    assert rb.review_name


@pytest.mark.parametrize("rulebook_id", NATION_BOOKS)
def test_no_number_was_found_so_every_deadline_is_an_expectation(rulebook_id: str) -> None:
    for d in REGISTRY.get(rulebook_id).deadlines:
        assert d.kind == "expectation", d.name
        assert "expectation" in d.source, d.name  # the source says it is not the text's
        assert not d.refuse_when_missed


@pytest.mark.parametrize(
    ("nation", "on", "rulebook_id"),
    [
        ("wales", date(2013, 1, 1), "wales-cpr-2012"),
        ("wales", date(2024, 9, 30), "wales-cpr-2012"),
        ("wales", date(2024, 10, 1), "wales-susr-2024"),
        ("scotland", date(2021, 9, 1), "scotland-learning-review-2021"),
        ("northern_ireland", date(2013, 6, 1), "northern-ireland-cmr-2012"),
        ("northern_ireland", date(2026, 1, 1), "northern-ireland-cmr-2012"),
        ("england", date(2025, 3, 3), "england-2023"),
        ("england", date(2016, 3, 3), "england-scr-2015"),
    ],
)
def test_the_rulebook_in_force_is_the_nations_own(nation: str, on: date, rulebook_id: str) -> None:
    assert REGISTRY.in_force(on, nation).id == rulebook_id


def test_no_other_nations_rulebook_stands_in_for_a_missing_one() -> None:
    # Before 1 April 2006 no English rulebook was in force (the first SCR one starts with
    # the LSCB Regulations 2006): a rulebook of another nation must not be chosen.
    with pytest.raises(UnknownRulebook, match="no england rulebook"):
        REGISTRY.in_force(date(2006, 3, 31), "england")
    with pytest.raises(UnknownRulebook, match="no scotland rulebook"):
        REGISTRY.in_force(date(2020, 6, 1), "scotland")


def test_a_default_rulebook_of_another_nation_stops_start_up() -> None:
    with pytest.raises(RulebookInvalid, match="default rulebook of scotland is wales's"):
        load_rulebooks(Settings(default_rulebook_scotland="wales-susr-2024"))


# --- calendars: the nation's own bank holidays move its dates ------------------------


@pytest.mark.parametrize(
    ("aware", "scotland", "england_and_wales", "why"),
    [
        # 1 and 2 January are holidays in Scotland; only 1 January in England and Wales.
        (date(2025, 12, 31), date(2026, 1, 9), date(2026, 1, 8), "2 January"),
        # St Andrew's Day, Mon 30 Nov 2026 (the day itself, not a substitute).
        (date(2026, 11, 24), date(2026, 12, 2), date(2026, 12, 1), "St Andrew's Day"),
        # 30 Nov 2025 is a Sunday: the substitute Mon 1 Dec 2025 is the holiday.
        (date(2025, 11, 26), date(2025, 12, 4), date(2025, 12, 3), "St Andrew's (observed)"),
        # Easter Monday (6 Apr 2026) is a working day in Scotland, not in England and
        # Wales; Good Friday (3 Apr) is a holiday in both.
        (date(2026, 4, 2), date(2026, 4, 10), date(2026, 4, 13), "Easter Monday"),
    ],
)
def test_scottish_due_dates_follow_scotlands_holidays(
    aware: date, scotland: date, england_and_wales: date, why: str
) -> None:
    assert _due("scotland-learning-review-2021", "notification_to_cpc", aware) == scotland, why
    assert _due("wales-susr-2024", "referral_to_board", aware) == england_and_wales, why


@pytest.mark.parametrize(
    ("aware", "northern_ireland", "england_and_wales", "why"),
    [
        # St Patrick's Day, Tue 17 Mar 2026.
        (date(2026, 3, 13), date(2026, 3, 23), date(2026, 3, 20), "17 March"),
        # Battle of the Boyne, Fri 12 Jul 2024 (the day itself, a weekday that year).
        (date(2024, 7, 10), date(2024, 7, 18), date(2024, 7, 17), "12 July"),
        # 12 Jul 2026 is a Sunday: the substitute Mon 13 Jul 2026 is the holiday.
        (date(2026, 7, 9), date(2026, 7, 17), date(2026, 7, 16), "12 July (observed)"),
    ],
)
def test_northern_irish_due_dates_follow_northern_irelands_holidays(
    aware: date, northern_ireland: date, england_and_wales: date, why: str
) -> None:
    assert _due("northern-ireland-cmr-2012", "notification_to_sbni", aware) == northern_ireland
    assert _due("wales-cpr-2012", "referral_to_board", aware) == england_and_wales, why


def test_the_one_number_used_seven_calendar_days_for_the_report_in_scotland() -> None:
    # Care Inspectorate: the outcome notification within seven days of ratification
    # (its page for adult learning reviews; an expectation here). Calendar days: the
    # weekend counts. Ratified Thu 1 Oct 2026 -> Thu 8 Oct 2026.
    rb, rule = _rule("scotland-learning-review-2021", "report_to_care_inspectorate")
    assert (rule.amount, rule.unit.value) == (7, "calendar_days")
    assert _due(rb.id, rule.name, date(2026, 10, 1)) == date(2026, 10, 8)


def test_months_rules_count_calendar_months() -> None:
    # Review completed, expected 6 months after the decision (a local default).
    assert _due("wales-susr-2024", "review_completed", date(2025, 8, 31)) == date(2026, 2, 28)


# --- what an expectation is -----------------------------------------------------------


def _status(today: date, met: date | None = None) -> Any:
    rb, rule = _rule("scotland-learning-review-2021", "notification_to_cpc")
    facts: dict[str, Any] = {"aware_date": date(2025, 12, 31), "notification_date": met}
    return evaluate(
        rb,
        rule,
        state="notification_due",
        facts=facts,
        today=today,
        calendar=calendar_for("scotland"),
    )


def test_an_expectation_past_its_date_is_pending_never_overdue_or_red() -> None:
    status = _status(today=date(2026, 2, 2))  # expected by Fri 9 Jan 2026
    assert status.state is DeadlineState.PENDING
    assert (status.rag, status.working_days_late, status.working_days_remaining) == (
        None,
        None,
        None,
    )
    assert status.explanation.startswith(
        "Expected by Fri 9 Jan 2026: a local expectation (the guidance gives no number), "
        "never overdue."
    )
    assert "Non-working days skipped: Thu 1 Jan 2026 (New Year's Day), Fri 2 Jan 2026 " in (
        status.explanation
    )
    assert stored_row(status)[0] == "expected"  # so no overdue query ever sees it


def test_an_expectation_ahead_counts_down_without_a_rating() -> None:
    status = _status(today=date(2026, 1, 7))
    assert (status.state, status.working_days_remaining, status.rag) == (
        DeadlineState.PENDING,
        2,
        None,
    )


@pytest.mark.parametrize(
    ("met", "on_time", "words"),
    [(date(2026, 1, 9), True, "by the expected date"), (date(2026, 1, 12), False, "after")],
)
def test_an_expectation_met_says_whether_by_its_date_but_never_late(
    met: date, on_time: bool, words: str
) -> None:
    status = _status(today=date(2026, 2, 2), met=met)
    assert (status.state, status.on_time, status.rag, status.working_days_late) == (
        DeadlineState.MET,
        on_time,
        None,
        None,
    )
    assert words in status.explanation


def test_an_expectation_cannot_be_enforced_by_refusal() -> None:
    rb = REGISTRY.get("scotland-learning-review-2021")
    rule = rb.deadlines[0].model_copy(update={"refuse_when_missed": True})
    broken = rb.model_copy(update={"deadlines": (rule,)})
    problems = validate(broken, known_guards=GUARDS, known_triggers=COMMANDS, known_facts=ALL_FACTS)
    assert problems == [f"deadline {rule.name!r} is an expectation, which is never refused"]


# --- the nations' words -----------------------------------------------------------------


def test_each_nation_has_its_words() -> None:
    book = NationBook.bundled()
    assert [book.words(n).board for n in NATIONS] == [
        "Safeguarding partnership",
        "Regional Safeguarding Board",
        "Child Protection Committee",
        "Safeguarding Board for Northern Ireland (SBNI)",
    ]
    assert [book.words(n).national_body for n in NATIONS] == [
        "Child Safeguarding Practice Review Panel",
        "Welsh Government",
        "Care Inspectorate",
        "SBNI Case Management Review Panel",
    ]
    cpr = REGISTRY.get("wales-cpr-2012")
    assert book.words(cpr.nation, cpr.review_name).review == "child practice review"
    assert book.words("wales").review == "single unified safeguarding review"


def test_a_nation_without_its_words_stops_start_up(tmp_path: Path) -> None:
    path = tmp_path / "nations.yaml"
    path.write_text(
        "nations:\n  england:\n    name: England\n    board: B\n    national_body: N\n"
        "    review: r\n",
        encoding="utf-8",
    )
    with pytest.raises(RulebookInvalid, match="no vocabulary for nation 'wales'"):
        NationBook.load(path)
