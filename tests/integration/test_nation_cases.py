"""Cases of a Welsh, a Scottish and a Northern Irish partnership, driven through the real
engine on both databases: every arrow of each nation's rulebook is taken by some path,
each case opens under its nation's rulebook and counts on its nation's calendar, and an
expectation past its date is never counted as overdue."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.factories import NOW, _complete_plan, command, incident
from tests.support.world import ADMIN
from workflow.access import accounts
from workflow.access.permissions import Role
from workflow.access.principal import Principal
from workflow.cases import clock
from workflow.cases.engine import execute, open_case
from workflow.commands.intake import LogIncident
from workflow.context import Context
from workflow.core.errors import GuardRefused, InvalidFacts
from workflow.core.rulebook import START, RulebookRegistry
from workflow.reads import dashboard
from workflow.reads.queries import CaseListRequest, list_cases
from workflow.storage.database import Database
from workflow.storage.models import Case, CaseDeadline

NATIONS = {"cymru": "wales", "alba": "scotland", "ulster": "northern_ireland", "shire": "england"}
Step = str | tuple[str, dict[str, Any]]


@dataclass
class Driver:
    """Drives cases as an officer of every nation's partnership, recording each arrow
    (source, trigger, destination) it takes."""

    database: Database
    ctx: Context
    taken: dict[str, set[tuple[str, str, str]]] = field(default_factory=dict)

    def open(self, partnership: str, **overrides: Any) -> Case:
        body = LogIncident.model_validate(incident(partnership=partnership, **overrides))
        case = self.database.write(lambda s: open_case(s, self.ctx, body))
        self._took(case.rulebook_id, START, "log_incident", case.state)
        return case

    def step(self, case: Case, trigger: str, **overrides: Any) -> Case:
        if trigger == "close_case" and case.state == "action_plan_monitoring":
            version = _complete_plan(self.database, self.ctx, case.id, case.version)
            reloaded = self.database.read(lambda s: s.get(Case, case.id))
            assert reloaded is not None
            assert reloaded.version == version
            case = reloaded
        cmd = command(trigger, **overrides)
        after = self.database.write(lambda s: execute(s, self.ctx, case.id, case.version, cmd))
        self._took(case.rulebook_id, case.state, trigger, after.state)
        return after

    def run(self, case: Case, steps: Sequence[Step]) -> Case:
        for step in steps:
            trigger, overrides = (step, {}) if isinstance(step, str) else step
            case = self.step(case, trigger, **overrides)
            case = self._involve(case)
        return case

    def _involve(self, case: Case) -> Case:
        """Record a family milestone wherever the rulebook allows one (an internal arrow)."""
        rb = self.ctx.rulebooks.get(case.rulebook_id)
        arrow = (case.state, "record_involvement", case.state)
        if "record_involvement" in rb.triggers_from(case.state) and arrow not in self._of(rb.id):
            case = self.step(case, "record_involvement")
        return case

    def _took(self, rulebook: str, source: str, trigger: str, dest: str) -> None:
        self._of(rulebook).add((source, trigger, dest))

    def _of(self, rulebook: str) -> set[tuple[str, str, str]]:
        return self.taken.setdefault(rulebook, set())


def arrows(rulebooks: RulebookRegistry, rulebook_id: str) -> set[tuple[str, str, str]]:
    rb = rulebooks.get(rulebook_id)
    return {(s, t.trigger, t.dest or s) for t in rb.transitions for s in t.source}


@pytest.fixture
def driver(database: Database, rulebooks: RulebookRegistry) -> Driver:
    def run(s: Session) -> Principal:
        officer = accounts.create_user(s, "officer", "Officer", NOW, by=ADMIN)
        for code, nation in NATIONS.items():
            p = accounts.create_partnership(s, code, f"{code} board", NOW, nation=nation, by=ADMIN)
            for role in (Role.NOTIFIER, Role.REVIEW_GROUP):
                accounts.grant_role(s, officer, p, role, now=NOW, by=ADMIN)
        return accounts.principal_for(s, officer)

    return Driver(database, Context(rulebooks, database.write(run), NOW))


LOCAL = ("record_decision", {})
NO_REVIEW = ("record_decision", {"decision": "no_review", "learning": "Single-agency learning."})
# The national body told of the decision later: the same decision re-recorded.
TOLD_LOCAL = ("record_decision", {"sent_to_panel_date": "2025-03-25"})
TOLD_NONE = (
    "record_decision",
    {
        "decision": "no_review",
        "learning": "Single-agency learning.",
        "sent_to_panel_date": "2025-03-25",
    },
)
REVIEW = [
    TOLD_LOCAL,
    "commission_reviewer",
    TOLD_LOCAL,
    "agree_terms_of_reference",
    TOLD_LOCAL,
    "receive_final_report",
]
# Every way out of the report stage; each list continues from it.
AFTER_REPORT: list[list[Step]] = [
    [
        "defer_publication",
        "resume_publication",  # back to the report stage: nothing sent yet
        "send_report_to_panel",
        "defer_publication",
        "resume_publication",  # back to publication: the report was sent
        "publish_report",
        "withdraw_publication",
        ("close_case", {"closed_date": "2025-12-21"}),
        ("withdraw_publication", {"withdrawn_date": "2025-12-22"}),
    ],
    ["decide_not_to_publish"],
    ["send_report_to_panel", "decide_not_to_publish"],
    ["defer_publication", "decide_not_to_publish"],
]
# rulebook -> the steps up to the decision (the first state's own steps)
BEFORE_DECISION: dict[str, list[Step]] = {
    "wales-susr-2024": ["record_notification", "complete_rapid_review"],
    "wales-cpr-2012": ["record_notification", "complete_rapid_review"],
    "scotland-learning-review-2021": ["record_notification", "complete_rapid_review"],
    "northern-ireland-cmr-2012": ["record_notification"],
}
NO_RE_RECORDING = {"northern-ireland-cmr-2012"}  # no national body to tell of the decision
OPENING = {  # rulebook -> (partnership, incident overrides)
    "wales-susr-2024": ("cymru", {}),
    "wales-cpr-2012": (
        "cymru",
        {"incident_date": "2016-03-01", "aware_date": "2016-03-03", "rulebook": "wales-cpr-2012"},
    ),
    "scotland-learning-review-2021": ("alba", {}),
    "northern-ireland-cmr-2012": ("ulster", {}),
}


def _paths(rulebook_id: str) -> list[list[Step]]:
    before = BEFORE_DECISION[rulebook_id]
    review = REVIEW if rulebook_id not in NO_RE_RECORDING else REVIEW[1::2]
    no_review = [NO_REVIEW, *([] if rulebook_id in NO_RE_RECORDING else [TOLD_NONE]), "close_case"]
    return [[*before, LOCAL, *review, *after] for after in AFTER_REPORT] + [[*before, *no_review]]


def _shift(steps: list[Step], rulebook_id: str) -> list[Step]:
    """The Welsh child practice review case is historic: its dates are 2016's."""
    if rulebook_id != "wales-cpr-2012":
        return steps
    out: list[Step] = []
    for step in steps:
        trigger, overrides = (step, {}) if isinstance(step, str) else step
        body = {**command(trigger).model_dump(mode="json"), **overrides}
        out.append((trigger, {k: _to_2016(v) for k, v in body.items()}))
    return out


def _to_2016(value: Any) -> Any:
    if isinstance(value, str) and len(value) == 10 and value[:4] in ("2024", "2025"):
        return str(int(value[:4]) - 9) + value[4:]  # 2025 -> 2016, 2024 -> 2015
    return value


@pytest.mark.parametrize("rulebook_id", sorted(OPENING))
def test_every_arrow_of_the_rulebook_is_driven(
    driver: Driver, rulebooks: RulebookRegistry, rulebook_id: str
) -> None:
    partnership, overrides = OPENING[rulebook_id]
    for path in _paths(rulebook_id):
        case = driver.open(partnership, **overrides)
        assert case.rulebook_id == rulebook_id
        case = driver.run(case, _shift(path, rulebook_id))
        assert case.state in ("closed", "action_plan_monitoring")
    assert driver.taken[rulebook_id] == arrows(rulebooks, rulebook_id)


@pytest.mark.parametrize(
    ("partnership", "rulebook_id"),
    [
        ("cymru", "wales-susr-2024"),
        ("alba", "scotland-learning-review-2021"),
        ("ulster", "northern-ireland-cmr-2012"),
        ("shire", "england-2023"),
    ],
)
def test_a_new_case_takes_its_nations_default_rulebook(
    driver: Driver, partnership: str, rulebook_id: str
) -> None:
    assert driver.open(partnership).rulebook_id == rulebook_id


def test_a_rulebook_of_another_nation_is_refused_on_the_rulebook_field(driver: Driver) -> None:
    with pytest.raises(InvalidFacts) as refused:
        driver.open("alba", rulebook="england-2023")
    assert refused.value.field == "rulebook"
    assert "scotland" in refused.value.detail


@pytest.mark.parametrize("partnership", ["cymru", "alba", "ulster"])
def test_a_national_review_recommendation_means_nothing_outside_england(
    driver: Driver, partnership: str
) -> None:
    case = driver.open(partnership)
    case = driver.run(case, BEFORE_DECISION[case.rulebook_id])
    with pytest.raises(GuardRefused):
        driver.step(case, "record_decision", decision="national_review_recommended")


def _deadline(database: Database, case_id: uuid.UUID, name: str) -> CaseDeadline:
    row = database.read(
        lambda s: s.scalar(
            select(CaseDeadline).where(CaseDeadline.case_id == case_id, CaseDeadline.name == name)
        )
    )
    assert row is not None
    return row


def test_a_scottish_case_counts_on_scotlands_holidays(driver: Driver, database: Database) -> None:
    # aware Wed 31 Dec 2025: 1 and 2 January are holidays in Scotland, so day 5 is
    # Fri 9 Jan 2026 (England and Wales: Thu 8 Jan; 2 January is not a holiday there).
    scottish = driver.open("alba", incident_date="2025-12-30", aware_date="2025-12-31")
    welsh = driver.open("cymru", incident_date="2025-12-30", aware_date="2025-12-31")
    assert _deadline(database, scottish.id, "notification_to_cpc").due_date == date(2026, 1, 9)
    assert _deadline(database, welsh.id, "referral_to_board").due_date == date(2026, 1, 8)


def test_an_expectation_past_its_date_is_never_overdue(driver: Driver, database: Database) -> None:
    # Both notifications were due in January 2026; today is Thu 15 Jan 2026.
    scottish = driver.open("alba", incident_date="2025-12-30", aware_date="2025-12-31")
    english = driver.open("shire", incident_date="2025-12-30", aware_date="2025-12-31")
    stored = _deadline(database, scottish.id, "notification_to_cpc")
    assert (stored.state, stored.due_date) == ("expected", date(2026, 1, 9))
    assert _deadline(database, english.id, "panel_notification").state == "pending"

    ctx = driver.ctx
    overdue, _ = database.read(lambda s: list_cases(s, ctx, CaseListRequest(overdue=True)))
    assert [c.id for c in overdue] == [english.id]
    figures = database.read(lambda s: dashboard.dashboard(s, ctx))
    assert "notification_to_cpc" not in figures.overdue_deadlines
    assert figures.overdue_deadlines["panel_notification"] == 1

    case = database.read(lambda s: s.get(Case, scottish.id))
    assert case is not None
    rb = ctx.rulebooks.get(case.rulebook_id)
    shown = {s.name: s for s in database.read(lambda s: clock.statuses(s, ctx, rb, case))}[
        "notification_to_cpc"
    ]
    assert (str(shown.state), shown.rag, shown.working_days_late) == ("pending", None, None)
    assert shown.explanation.startswith("Expected by Fri 9 Jan 2026")
