"""Demo data: FICTIONAL, clearly labelled cases in two partnerships (`demo`,
`demo-north`) across every stage of england-2023, every rulebook and every deadline
status, with action plans and a thematic review, plus a demo user per role.

Dates are relative to today, so deadline statuses are live. Every case is entered
through the real commands (as the case-log importer does) by a `demo-data` actor.
Idempotent: a case whose local reference exists is left alone; users, partnerships
and the thematic review are created only if missing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.access import accounts
from workflow.access.account_audit import Actor
from workflow.access.permissions import Role
from workflow.access.principal import Grant, Principal
from workflow.cases import action_plan as plans
from workflow.cases.engine import execute
from workflow.cases.thematic import open_thematic
from workflow.commands.branches import ConcludeCriteriaNotMet, WithdrawNotification
from workflow.commands.closure import CloseCase
from workflow.commands.publication import DeferPublication
from workflow.commands.thematic import OpenThematicReview
from workflow.context import Context
from workflow.core.calendar import WorkingDayCalendar
from workflow.core.calendars import CalendarBook
from workflow.core.rulebook import RulebookRegistry
from workflow.jobs.import_rows import Row
from workflow.jobs.importer import add_action, enter_row
from workflow.storage.database import Database
from workflow.storage.models import Case, Partnership, User

PARTNERSHIPS = {
    "demo": "Demo safeguarding partnership (FICTIONAL)",
    "demo-north": "Demo North safeguarding partnership (FICTIONAL)",
}
LABEL = "FICTIONAL demo case"
THEMATIC = "FICTIONAL demo thematic review: non-mobile babies with bruising"
TOKEN_ROLES = (Role.REVIEW_GROUP, Role.VIEWER)
DEMO_ACTOR = Actor("demo-data", "casereview demo-data")  # as its cases' audit records
Extra = Callable[[Session, Context, Case], Case]


@dataclass
class DemoResult:
    created: list[str] = field(default_factory=list)  # local references
    existing: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    tokens: list[tuple[str, accounts.IssuedToken]] = field(default_factory=list)


def load_demo(
    db: Database, rulebooks: RulebookRegistry, calendars: CalendarBook, now: datetime
) -> DemoResult:
    """Create whatever of the demo data is missing, in one transaction."""
    return db.write(lambda s: _load(s, rulebooks, calendars, now))


def _load(
    session: Session, rulebooks: RulebookRegistry, calendars: CalendarBook, now: datetime
) -> DemoResult:
    result = DemoResult()
    for code, name in PARTNERSHIPS.items():
        partnership = session.scalar(select(Partnership).where(Partnership.code == code))
        partnership = partnership or accounts.create_partnership(
            session, code, name, now, by=DEMO_ACTOR
        )
        _users(session, partnership, now, result)
        actor = Principal(
            user_id=uuid.UUID(int=0),
            username="demo-data",
            grants=tuple(
                Grant(partnership.id, code, r) for r in (Role.NOTIFIER, Role.REVIEW_GROUP)
            ),
        )
        ctx = Context(rulebooks, actor, now, "casereview demo-data", calendars)
        cal = calendars.calendar(partnership.division, code)
        have = set(
            session.scalars(
                select(Case.local_reference).where(Case.partnership_id == partnership.id)
            )
        )
        for cells, extras in _cases(code, ctx.today, cal):
            reference = str(cells["local_reference"])
            if reference in have:
                result.existing.append(reference)
                continue
            case = enter_row(session, ctx, code, Row(0, cells))
            for extra in extras:
                case = extra(session, ctx, case)
            result.created.append(reference)
        if code == "demo-north":
            _thematic(session, ctx, partnership)
    return result


def _users(session: Session, partnership: Partnership, now: datetime, out: DemoResult) -> None:
    roles = [r for r in Role if r is not Role.NATIONAL or partnership.code == "demo"]
    for role in roles:
        username = f"{partnership.code}.{role.value}"
        if session.scalar(select(User.id).where(User.username == username)) is not None:
            continue
        name = f"Demo {role.value} (FICTIONAL)"
        user = accounts.create_user(session, username, name, now, by=DEMO_ACTOR)
        accounts.grant_role(session, user, partnership, role, now=now, by=DEMO_ACTOR)
        out.users.append(username)
        if role in TOKEN_ROLES:
            valid = timedelta(days=90)
            token = accounts.create_token(session, user, "demo", now, valid, by=DEMO_ACTOR)
            out.tokens.append((username, token))


Spec = tuple[dict[str, Any], list[Extra]]  # a case-log row and what follows it
RECOMMENDATIONS = (
    "Refresh the bruising protocol for non-mobile babies",
    "Train front-door staff in professional curiosity",
    "Share GP records at strategy discussions",
    "Involve fathers and unseen men in assessments",
)
DONE = ("completed_signed_off", -100)  # an action's status and due date (days from today)
AWAITING = ("completed_awaiting_evidence", 5)


def _case(
    cal: WorkingDayCalendar,
    ref: str,
    outline: str,
    aware: date,
    upto: int = 0,
    *extras: Extra,
    **cells: Any,
) -> Spec:
    """A row whose case follows the LCSPR path's first `upto` stages (a cell given as
    None is left out)."""

    def at(n: int) -> date:
        return cal.add_working_days(aware, n)

    stages: list[dict[str, Any]] = [
        {"notification_date": at(3), "partners_informed_date": at(3)},
        {"rapid_review_meeting_date": at(10), "rapid_review_sent_date": at(12)},
        {"decision_date": at(14), "decision_reasons": "Potential for systemic learning."},
        {"panel_response_date": at(20), "panel_agrees": True},
        {"reviewer_name": "Demo Reviewer (FICTIONAL)", "reviewer_commissioned_date": at(30)},
        {"terms_of_reference_date": at(40)},
        {"final_report_date": at(100), "recommendations": "; ".join(RECOMMENDATIONS)},
        {"report_sent_to_panel_date": at(105), "planned_publication_date": at(115)},
        {"published_date": at(115), "publication_url": "https://example.org/fictional/demo"},
    ]
    row: dict[str, Any] = {
        "local_reference": ref, "incident_date": aware - timedelta(days=2), "aware_date": aware,
        "location": "FICTIONAL: Demo town", "nature": "serious_harm",
        "abuse_or_neglect": "suspected", "child_age_years": 1, "child_pseudonym": f"Child {ref}",
        "case_outline": f"{LABEL}: {outline}", "decision": "local_review" if upto > 1 else None,
    }  # fmt: skip
    for stage in stages[:upto]:
        row.update(stage)
    return {k: v for k, v in {**row, **cells}.items() if v is not None}, list(extras)


def _actions(*plan: tuple[str, int]) -> Extra:
    """One action per recommendation: its status and due date (days from today)."""

    def run(session: Session, ctx: Context, case: Case) -> Case:
        for number, (status, due) in enumerate(plan, start=1):
            body = plans.AddAction(
                recommendation_number=number,
                description=f"{LABEL}: action for recommendation {number}",
                agency=("local_authority", "police", "health_icb", "education")[number % 4],
                owner="Demo lead (FICTIONAL)",
                due_date=ctx.today + timedelta(days=due),
            )
            case = add_action(session, ctx, case, body, status, "Demo progress (FICTIONAL)")
        return case

    return run


def _command(command: Any) -> Extra:
    def run(session: Session, ctx: Context, case: Case) -> Case:
        return execute(session, ctx, case.id, case.version, command)

    return run


def _cases(code: str, today: date, cal: WorkingDayCalendar) -> list[Spec]:
    """`demo`: england-2023, a case in every state and every deadline status.
    `demo-north`: historic regimes, the Panel's 2025 guidance, a thematic review's sources."""

    def wd(n: int) -> date:  # n working days ago
        return cal.add_working_days(today, -n)

    if code == "demo":
        defer = DeferPublication(
            deferred_date=wd(10),
            proceedings=["criminal_trial"],
            review_by_date=today + timedelta(60),
        )
        close = CloseCase(closed_date=wd(20), reason=f"{LABEL}: action plan complete")
        not_met = ConcludeCriteriaNotMet(
            concluded_date=wd(4),
            reasons=f"{LABEL}: the harm was accidental; no abuse or neglect suspected",
            panel_told_date=wd(3),
        )
        withdrawn = WithdrawNotification(
            withdrawn_on=wd(5),
            reason="duplicate",
            explanation=f"{LABEL}: notified twice for the same incident",
            duplicate_of="DEMO-06",
        )
        return [
            _case(cal, "DEMO-01", "not notifiable", wd(20), nature="other",
                  abuse_or_neglect="not_suspected"),
            _case(cal, "DEMO-02", "notification pending", today),
            _case(cal, "DEMO-03", "notification due soon", wd(3)),
            _case(cal, "DEMO-04", "notification overdue", wd(12)),
            _case(cal, "DEMO-05", "looked-after child death, notified", wd(30), nature="death",
                  abuse_or_neglect="not_suspected", child_age_years=16, looked_after_child=True,
                  notification_date=wd(27)),
            _case(cal, "DEMO-06", "rapid review under way, notified on time", wd(8), 1),
            _case(cal, "DEMO-07", "decision due; notification and rapid review late", wd(30), 2,
                  notification_date=wd(22), partners_informed_date=wd(22),
                  rapid_review_meeting_date=wd(15), rapid_review_sent_date=wd(13)),
            _case(cal, "DEMO-08", "awaiting the Panel's response", wd(25), 3),
            _case(cal, "DEMO-09", "no further review", wd(40), 4, decision="no_review",
                  learning="Single-agency learning on escalation."),
            _case(cal, "DEMO-10", "national review", wd(45), 4,
                  decision="national_review_recommended", panel_national_review=True),
            _case(cal, "DEMO-11", "reviewer to commission", wd(35), 4),
            _case(cal, "DEMO-12", "terms of reference due", wd(45), 5),
            _case(cal, "DEMO-13", "review in progress", wd(60), 6),
            _case(cal, "DEMO-14", "report in, 6-month target overdue", wd(160), 7),
            _case(cal, "DEMO-15", "publication planned", wd(110), 8),
            _case(cal, "DEMO-16", "publication deferred for a trial", wd(120), 7, _command(defer)),
            _case(cal, "DEMO-17", "published; action plan monitored", wd(200), 9,
                  _actions(("not_started", -20), ("in_progress", 40), AWAITING, DONE)),
            _case(cal, "DEMO-18", "published, plan complete, closed", wd(300), 9,
                  _actions(DONE, DONE, DONE, DONE), _command(close)),
            _case(cal, "DEMO-19", "rapid review: criteria not met", wd(12), 1, _command(not_met)),
            _case(cal, "DEMO-20", "notification withdrawn (duplicate)", wd(9), 1,
                  _command(withdrawn)),
        ]  # fmt: skip
    scr, close = date(2017, 3, 6), CloseCase(closed_date=date(2019, 6, 3), reason="Plan complete")
    return [
        _case(cal, "NORTH-01", "Serious Case Review, published, closed", scr, 9,
              _actions(DONE, DONE, DONE, DONE), _command(close), rapid_review_meeting_date=None,
              rapid_review_sent_date=None, panel_response_date=None, panel_agrees=None),
        _case(cal, "NORTH-02", "no Serious Case Review", date(2016, 6, 13), 1, decision="no_review",
              decision_date=date(2016, 7, 8), decision_reasons="Criteria not met.",
              learning="Escalation policy relaunched.", closed_date=date(2016, 8, 1),
              close_reason="No SCR; learning shared."),
        _case(cal, "NORTH-03", "2018 LCSPR, action plan monitored", date(2021, 2, 1), 9,
              _actions(("in_progress", -30), DONE, DONE, ("not_started", -60))),
        _case(cal, "NORTH-04", "2018 national review", date(2022, 5, 9), 4,
              decision="national_review_recommended", panel_national_review=True),
        _case(cal, "NORTH-05", "injured baby (thematic review source)", wd(30), 2),
        _case(cal, "NORTH-06", "injured baby (thematic review source)", wd(35), 3),
        _case(cal, "NORTH-07", "Panel 2025 guidance: rapid review", wd(10), 1,
              rulebook="england-panel-2025"),
        # The regimes before 2015 (Working Together 2006, 2010 and 2013): cases still cited.
        _case(cal, "NORTH-08", "2007 Serious Case Review, notified", date(2007, 5, 14)),
        _case(cal, "NORTH-09", "2011 Serious Case Review, notified", date(2011, 10, 3)),
        _case(cal, "NORTH-10", "2014 Serious Case Review, notified", date(2014, 2, 10)),
    ]  # fmt: skip


def _thematic(session: Session, ctx: Context, partnership: Partnership) -> None:
    exists = session.scalar(
        select(Case.id).where(Case.partnership_id == partnership.id, Case.title == THEMATIC)
    )
    sources = list(
        session.scalars(
            select(Case).where(
                Case.partnership_id == partnership.id,
                Case.local_reference.in_(["NORTH-05", "NORTH-06"]),
                Case.state != "closed",
            )
        )
    )
    if exists is not None or len(sources) != 2:
        return
    command = OpenThematicReview(
        title=THEMATIC,
        partnership=partnership.code,
        decision_date=ctx.today - timedelta(days=3),
        reasons=f"{LABEL}: two injured babies with shared learning",
        source_case_ids=[c.id for c in sources],
    )
    open_thematic(session, ctx, command)
