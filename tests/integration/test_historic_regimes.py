"""Historic regimes and expected dates (issue 17), through the real engine on both
databases: a 2007 Serious Case Review entered with its own dates and driven to closure
under the regime then in force; the Panel's response as an expected date that is never
counted as overdue; and, for every pausable deadline of every rulebook, a pause recorded
after the deadline was met does not move it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.support.factories import NOW, _complete_plan, command, incident, make_case
from tests.support.world import World
from workflow.cases import clock
from workflow.cases.deadline_adjustments import AdjustDeadline, adjust_deadline
from workflow.cases.engine import execute, open_case
from workflow.commands.intake import LogIncident
from workflow.context import Context
from workflow.core.deadlines import DeadlineStatus
from workflow.core.errors import InvalidFacts
from workflow.core.rulebook import RulebookRegistry
from workflow.reads import dashboard
from workflow.reads.queries import CaseListRequest, list_cases
from workflow.storage.database import Database
from workflow.storage.models import Case, CaseDeadline, CaseEvent


def _officer(rulebooks: RulebookRegistry, world: World) -> Context:
    """The one signed-in actor of these tests: notifier and review group of alpha."""
    return Context(rulebooks, world.officer, NOW)


def _rows(database: Database, case_id: uuid.UUID) -> dict[str, CaseDeadline]:
    rows = database.read(
        lambda s: list(s.scalars(select(CaseDeadline).where(CaseDeadline.case_id == case_id)))
    )
    return {r.name: r for r in rows}


def _statuses(database: Database, ctx: Context, case_id: uuid.UUID) -> dict[str, DeadlineStatus]:
    """The case's deadlines as the API reads them (with lateness, which is not stored)."""

    def read(s: Session) -> list[DeadlineStatus]:
        case = s.get(Case, case_id)
        assert case is not None
        rb = ctx.rulebooks.get(case.rulebook_id, case.rulebook_version)
        return clock.statuses(s, ctx, rb, case)

    return {d.name: d for d in database.read(read)}


def _step(database: Database, ctx: Context, case: Case, trigger: str, **body: Any) -> Case:
    if trigger == "close_case" and case.state == "action_plan_monitoring":
        version = _complete_plan(database, ctx, case.id, case.version)
        reloaded = database.read(lambda s: s.get(Case, case.id))
        assert reloaded is not None
        assert reloaded.version == version
        case = reloaded
    cmd = command(trigger, **body)
    return database.write(lambda s: execute(s, ctx, case.id, case.version, cmd))


# --- a Serious Case Review of 2007 ------------------------------------------------------
#
# aware Tue 16 Jan 2007: the regime in force is england-scr-2006 (LSCB Regulations 2006,
# Working Together 2006). Ofsted notified Fri 19 Jan 2007: expected by Tue 23 Jan
# (Wed 17 (1), Thu 18 (2), Fri 19 (3), Mon 22 (4), Tue 23 (5)), met. LSCB chair decides to
# hold an SCR Mon 12 Feb 2007: expected by Mon 19 Feb (notified 19 Jan + 1 month), met.
# Completion: 12 Feb + 4 months = Tue 12 Jun 2007; the overview report came Fri 29 Jun
# 2007: late by Wed 13 .. Fri 15 (3), Mon 18 .. Fri 22 (5), Mon 25 .. Fri 29 Jun (5) = 13
# working days (no bank holiday in between; the spring bank holiday was Mon 28 May).
SCR_2007: list[tuple[str, dict[str, Any]]] = [
    (
        "record_notification",
        {"notification_date": "2007-01-19", "partners_informed_date": "2007-01-19"},
    ),
    ("record_decision", {"decision_date": "2007-02-12"}),
    ("commission_reviewer", {"commissioned_date": "2007-02-26"}),
    (
        "agree_terms_of_reference",
        {
            "agreed_date": "2007-03-05",
            "scope_start_date": "2005-06-01",
            "scope_end_date": "2007-01-15",
        },
    ),
    ("receive_final_report", {"received_date": "2007-06-29"}),
    ("send_report_to_panel", {"sent_date": "2007-07-02", "planned_publication_date": "2007-07-16"}),
    (
        "publish_report",
        {"published_date": "2007-07-16", "url": "https://example.org/scr-exec-summary"},
    ),
    ("close_case", {"closed_date": "2007-12-14", "reason": "Action plan complete."}),
]


def test_a_2007_scr_is_entered_with_its_dates_and_driven_to_closure(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    ctx = _officer(rulebooks, world)
    body = incident(
        incident_date="2007-01-15",
        aware_date="2007-01-16",
        criteria={"nature": "death", "abuse_or_neglect": "known", "child_age_years": 2},
        children=[{"pseudonym": "Child H", "age_years": 2, "sex": "male"}],
    )
    case = database.write(lambda s: open_case(s, ctx, LogIncident.model_validate(body)))
    assert (case.rulebook_id, case.rulebook_version) == ("england-scr-2006", 1)
    states = [case.state]
    for trigger, overrides in SCR_2007:
        case = _step(database, ctx, case, trigger, **overrides)
        states.append(case.state)
    assert states == [
        "notification_due",
        "lscb_decision_due",
        "scr_commissioning",
        "scr_terms_of_reference_due",
        "scr_in_progress",
        "pre_publication",
        "publication_due",
        "action_plan_monitoring",
        "closed",
    ]
    rows = _rows(database, case.id)
    o, dec, done = rows["ofsted_notification"], rows["scr_decision"], rows["scr_completed"]
    assert (o.state, o.due_date, o.on_time) == ("met", date(2007, 1, 23), True)
    assert (dec.state, dec.due_date, dec.on_time) == ("met", date(2007, 2, 19), True)
    assert (done.state, done.due_date, done.on_time) == ("met", date(2007, 6, 12), False)
    assert _statuses(database, ctx, case.id)["scr_completed"].working_days_late == 13
    # No national panel existed in 2007: the rulebook has no deadline of it.
    assert not any("national_panel" in name for name in rows)
    events = database.read(
        lambda s: list(
            s.scalars(
                select(CaseEvent.event_type)
                .where(CaseEvent.case_id == case.id)
                .order_by(CaseEvent.sequence)
            )
        )
    )
    assert events[-1] == "close_case"


# --- the Panel's response: an expected date ---------------------------------------------
#
# The rapid review was sent Thu 20 Mar 2025 (factories.BODIES): + 10 working days = Fri 21
# (1), Mon 24 .. Fri 28 (6), Mon 31 Mar (7), Tue 1 (8), Wed 2 (9), Thu 3 Apr 2025 (10).
# Today is Thu 15 Jan 2026, long after; the response is still awaited.


def test_the_panels_response_is_expected_never_overdue(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    ctx = _officer(rulebooks, world)
    case_id = make_case(database, rulebooks, ctx.principal, "panel_response_due")
    row = _rows(database, case_id)["panel_response_expected"]
    assert (row.state, row.due_date, row.on_time) == ("expected", date(2025, 4, 3), None)
    # The case is overdue, but only for the 6-month review (decided Thu 20 Mar 2025):
    # the expected response never counts.
    assert _rows(database, case_id)["lcspr_published"].due_date == date(2025, 9, 20)
    overdue, _ = database.read(lambda s: list_cases(s, ctx, CaseListRequest(overdue=True)))
    assert [c.id for c in overdue] == [case_id]
    figures = database.read(lambda s: dashboard.dashboard(s, ctx))
    assert "panel_response_expected" not in figures.overdue_deadlines
    assert figures.overdue_deadlines["lcspr_published"] == 1
    shown = _statuses(database, ctx, case_id)["panel_response_expected"]
    assert (shown.kind, shown.rag, shown.working_days_late) == ("expectation", None, None)
    assert shown.explanation.startswith("Expected by Thu 3 Apr 2025")


# --- a met deadline never moves, on the stored rows -------------------------------------


def _pausable() -> list[tuple[str, str, str]]:
    from config.settings import Settings
    from workflow.runtime import load_rulebooks

    registry = load_rulebooks(Settings())
    return [
        (rb.id, d.name, d.met_by_fact)
        for rb in (registry.get(i) for i in registry.ids())
        for d in rb.deadlines
        if d.pausable
    ]


PAUSABLE = _pausable()


def _path_to(met_by_fact: str, aware: date) -> list[tuple[str, dict[str, Any]]]:
    """The commands (with dates from `aware`) that record `met_by_fact`, late."""
    d = lambda n: (aware + timedelta(days=n)).isoformat()  # noqa: E731
    notify = ("record_notification", {"notification_date": d(3), "partners_informed_date": d(3)})
    decide = ("record_decision", {"decision_date": d(20)})
    commission = ("commission_reviewer", {"commissioned_date": d(30)})
    terms = (
        "agree_terms_of_reference",
        {"agreed_date": d(40), "scope_start_date": d(-300), "scope_end_date": d(0)},
    )
    if met_by_fact == "final_report_date":  # the SCR regimes: no rapid review
        # Eight months after the decision: late under a 4- or 6-month rule.
        return [
            notify,
            decide,
            commission,
            terms,
            ("receive_final_report", {"received_date": d(265)}),
        ]
    if met_by_fact == "published_date":  # the CSPR regimes
        review = ("complete_rapid_review", {"meeting_date": d(10), "sent_to_panel_date": d(12)})
        return [
            notify,
            review,
            decide,
            ("record_panel_response", {"response_date": d(25)}),
            commission,
            terms,
            ("receive_final_report", {"received_date": d(205)}),
            ("send_report_to_panel", {"sent_date": d(206), "planned_publication_date": d(220)}),
            ("publish_report", {"published_date": d(220)}),
        ]
    raise AssertionError(f"no path records {met_by_fact}: add one for the new pausable deadline")


def _snapshot(database: Database, ctx: Context, case_id: uuid.UUID, name: str) -> tuple[Any, ...]:
    """The stored row and the read status of deadline `name`: what a pause must not move."""
    row, status = _rows(database, case_id)[name], _statuses(database, ctx, case_id)[name]
    return (
        row.state,
        row.due_date,
        row.met_date,
        row.on_time,
        status.due_date,
        status.working_days_late,
        status.paused_days,
    )


@pytest.mark.parametrize(
    ("rulebook_id", "name", "met_by_fact"), PAUSABLE, ids=[p[1] + "-" + p[0] for p in PAUSABLE]
)
def test_a_pause_after_a_deadline_was_met_does_not_move_it(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    rulebook_id: str,
    name: str,
    met_by_fact: str,
) -> None:
    ctx = _officer(rulebooks, world)
    rb = rulebooks.get(rulebook_id)
    assert rb.effective_from is not None
    aware = rb.effective_from + timedelta(days=2)
    body = incident(
        rulebook=rulebook_id,
        incident_date=(aware - timedelta(days=1)).isoformat(),
        aware_date=aware.isoformat(),
    )
    case = database.write(lambda s: open_case(s, ctx, LogIncident.model_validate(body)))
    for trigger, overrides in _path_to(met_by_fact, aware):
        case = _step(database, ctx, case, trigger, **overrides)
    met = _statuses(database, ctx, case.id)[name]
    assert met.state == "met"
    assert met.on_time is False
    assert (met.working_days_late or 0) > 0
    before = _snapshot(database, ctx, case.id, name)
    after_met = (met.met_date or aware) + timedelta(days=3)

    # A pause recorded by hand after the met date is refused and changes nothing.
    pause = AdjustDeadline(
        deadline=name, kind="pause", effective_date=after_met, reason="trial", approved_by="Chair"
    )
    with pytest.raises(InvalidFacts) as refused:
        database.write(lambda s: adjust_deadline(s, ctx, case.id, case.version, pause))
    assert refused.value.field == "deadline"
    assert _snapshot(database, ctx, case.id, name) == before

    # A deferral of publication (which pauses every pausable deadline) after the met date,
    # and its resumption: the met deadline keeps its due date and its lateness.
    if "defer_publication" in rb.triggers_from(case.state):
        case = _step(
            database,
            ctx,
            case,
            "defer_publication",
            deferred_date=after_met.isoformat(),
            review_by_date=(after_met + timedelta(days=90)).isoformat(),
        )
        assert _snapshot(database, ctx, case.id, name) == before
        resumed = (after_met + timedelta(days=60)).isoformat()
        case = _step(database, ctx, case, "resume_publication", resumed_date=resumed)
        assert _snapshot(database, ctx, case.id, name) == before
