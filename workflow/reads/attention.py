"""What needs attention today, for the signed-in person: the rows of the web home page.

Four lists over the cases the caller may list (`case_filter`, as every list read):
- deadlines overdue, or due within `deadline_working_days` working days;
- open actions overdue, or due within `action_working_days` working days;
- cases stalled: in their stage for longer than the stage's threshold (working days;
  `stalled_by_stage`, else `stalled_working_days`), whether or not a deadline runs;
- the person's own: open actions assigned to them (action owners) and the cases they
  were commissioned to review (reviewers).

Each row names its case and says, in words, why it is there. An action's description
is personal data: shown only where `shows_personal` (workflow/access/disclosure.py)
says so, and then its case is in `personal_cases`, which the caller records as a read
(`queries.record_reads`) before showing the page. Read-only.

The windows are counted on the England and Wales calendar, as the dashboard's due-soon
list is; the "by N working days" words on the case's own calendar. Time in a stage is
counted from the timeline event that entered the stage; an imported case's events are
dated at its import, so its time in a stage starts there."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from workflow.access.disclosure import shows_personal
from workflow.access.scoping import case_filter
from workflow.cases.action_plan import OPEN_STATUSES
from workflow.context import LOCAL_ZONE, Context
from workflow.core.rulebook import Rulebook
from workflow.core.words import word, working_days
from workflow.storage.models import (
    Action,
    Case,
    CaseAssignment,
    CaseDeadline,
    CaseEvent,
    Partnership,
    Recommendation,
)

_CASE_COLUMNS = (
    Case.id,
    Case.local_reference,
    Case.title,
    Case.state,
    Case.stage,
    Case.rulebook_id,
    Case.rulebook_version,
    Case.partnership_id,
)
_STALLED_FETCH = 2000  # candidate cases read for the stalled list, longest stalled first


@dataclass(frozen=True)
class AttentionPolicy:
    """The windows and thresholds, in working days (CASEREVIEW_ATTENTION_*)."""

    deadline_working_days: int = 5
    action_working_days: int = 10
    stalled_working_days: int = 20
    stalled_by_stage: Mapping[str, int] = field(default_factory=dict)
    limit: int = 100  # rows listed per list; the totals count them all

    def stalled_after(self, stage: str) -> int:
        return self.stalled_by_stage.get(stage, self.stalled_working_days)


@dataclass(frozen=True)
class CaseRef:
    id: uuid.UUID
    name: str  # local reference, else title, else "Case <id prefix>"
    state: str
    stage: str


@dataclass(frozen=True)
class Item:
    case: CaseRef
    reason: str  # why the row is listed, in words
    overdue: bool
    due_date: date | None = None
    detail: str | None = None  # an action's description, when shown (personal data)
    status: str = "Due soon"  # a word for the row's tag: Overdue, Due soon, Stalled, Open


@dataclass(frozen=True)
class Attention:
    as_of: date
    policy: AttentionPolicy
    deadlines: list[Item]
    deadlines_total: int
    actions: list[Item]
    actions_total: int
    stalled: list[Item]
    stalled_total: int
    mine: list[Item]
    personal_cases: list[uuid.UUID]  # record these reads before showing the page

    @property
    def empty(self) -> bool:
        return not (self.deadlines or self.actions or self.stalled or self.mine)


def case_name(local_reference: str | None, title: str | None, case_id: uuid.UUID) -> str:
    return local_reference or title or f"Case {str(case_id)[:8]}"


def needs_attention(session: Session, ctx: Context, policy: AttentionPolicy) -> Attention:
    visible = case_filter(ctx.principal)
    codes = {p: c for p, c in session.execute(select(Partnership.id, Partnership.code))}
    deadlines, n_deadlines = _deadlines(session, ctx, policy, visible, codes)
    actions, n_actions, personal = _actions(session, ctx, policy, visible, codes, mine=False)
    stalled, n_stalled = _stalled(session, ctx, policy, visible, codes)
    own, _, own_personal = _actions(session, ctx, policy, visible, codes, mine=True)
    reviews = _reviews(session, ctx, visible)
    return Attention(
        as_of=ctx.today,
        policy=policy,
        deadlines=deadlines,
        deadlines_total=n_deadlines,
        actions=actions,
        actions_total=n_actions,
        stalled=stalled,
        stalled_total=n_stalled,
        mine=own + reviews,
        personal_cases=list(dict.fromkeys([*personal, *own_personal])),
    )


def _ref(row: Any) -> CaseRef:
    """The case of a row that has the `_CASE_COLUMNS`."""
    return CaseRef(row.id, case_name(row.local_reference, row.title, row.id), row.state, row.stage)


def _rulebook(ctx: Context, row: Any) -> Rulebook:
    return ctx.rulebooks.get(row.rulebook_id, row.rulebook_version)


def lateness(ctx: Context, division: str, code: str | None, due: date) -> tuple[bool, str]:
    """(overdue, "overdue by 3 working days" / "due today" / "due in 2 working days")."""
    calendar = ctx.calendars.calendar(division, code)
    today = ctx.today
    if due < today:
        return True, f"overdue by {working_days(calendar.working_days_between(due, today))}"
    if due == today:
        return False, "due today"
    return False, f"due in {working_days(calendar.working_days_between(today, due))}"


def _until(ctx: Context, n: int) -> date:
    return ctx.calendars.calendar("england-and-wales").add_working_days(ctx.today, n)


def _deadlines(
    session: Session,
    ctx: Context,
    policy: AttentionPolicy,
    visible: ColumnElement[bool],
    codes: Mapping[uuid.UUID, str],
) -> tuple[list[Item], int]:
    live = and_(
        visible,
        CaseDeadline.state == "pending",  # a stored `due_by` deadline still to meet
        CaseDeadline.due_date <= _until(ctx, policy.deadline_working_days),
    )
    joined = (
        select(func.count()).select_from(CaseDeadline).join(Case, Case.id == CaseDeadline.case_id)
    )
    total = session.scalar(joined.where(live)) or 0
    rows = session.execute(
        select(*_CASE_COLUMNS, CaseDeadline.name, CaseDeadline.due_date)
        .join(Case, Case.id == CaseDeadline.case_id)
        .where(live)
        .order_by(CaseDeadline.due_date, Case.id, CaseDeadline.name)
        .limit(policy.limit)
    ).all()
    items = []
    for row in rows:
        rulebook = _rulebook(ctx, row)
        found = next((d for d in rulebook.deadlines if d.name == row.name), None)
        title = found.title if found else word(row.name)
        division = (found.calendar if found else None) or rulebook.calendar
        overdue, when = lateness(ctx, division, codes.get(row.partnership_id), row.due_date)
        status = "Overdue" if overdue else "Due soon"
        items.append(Item(_ref(row), f"{title} {when}", overdue, row.due_date, status=status))
    return items, total


def _actions(
    session: Session,
    ctx: Context,
    policy: AttentionPolicy,
    visible: ColumnElement[bool],
    codes: Mapping[uuid.UUID, str],
    *,
    mine: bool,
) -> tuple[list[Item], int, list[uuid.UUID]]:
    """Open actions due within the window (all of the person's own when `mine`)."""
    where = [visible, Action.status.in_(OPEN_STATUSES)]
    window = _until(ctx, policy.action_working_days)
    if mine:
        where.append(Action.owner_username == ctx.principal.username)
    else:
        where.append(Action.due_date <= window)
    base = (
        select(*_CASE_COLUMNS, Action, Recommendation.number)
        .join(Case, Case.id == Action.case_id)
        .join(Recommendation, Recommendation.id == Action.recommendation_id)
        .where(*where)
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        base.order_by(Action.due_date, Case.id, Action.id).limit(policy.limit)
    ).all()
    items, personal = [], []
    for row in rows:
        action: Action = row.Action
        rulebook = _rulebook(ctx, row)
        code = codes.get(row.partnership_id)
        overdue, when = lateness(ctx, rulebook.calendar, code, action.due_date)
        agency = action.agency_name or word(action.agency)
        whose = "Your action" if mine else "Action"
        reason = f"{whose} for recommendation {row.number} ({agency}) {when}"
        shown = shows_personal(
            ctx.principal, row.partnership_id, row.id, action_owner=action.owner_username
        )
        if shown:
            personal.append(row.id)
        detail = action.description if shown else None
        soon = overdue or action.due_date <= window
        status = "Overdue" if overdue else "Due soon" if soon else "Open"
        items.append(Item(_ref(row), reason, overdue, action.due_date, detail, status))
    return items, total, personal


def _stage_states(ctx: Context) -> dict[str, set[str]]:
    """stage -> the names of its states, over every loaded rulebook."""
    out: dict[str, set[str]] = {}
    for rulebook in ctx.rulebooks.all():
        for state in rulebook.states:
            out.setdefault(state.stage, set()).add(state.name)
    return out


def _finals(ctx: Context) -> set[str]:
    return {name for rb in ctx.rulebooks.all() for name in rb.final_states}


def _stalled(
    session: Session,
    ctx: Context,
    policy: AttentionPolicy,
    visible: ColumnElement[bool],
    codes: Mapping[uuid.UUID, str],
) -> tuple[list[Item], int]:
    """Open cases in their stage for longer than its threshold. The stage was entered by
    the latest event into one of its states from outside it (or the case's first event).
    SQL narrows the cases with a cutoff counted on the England and Wales calendar less a
    week of slack; each is then counted exactly on its own calendar."""
    stages = _stage_states(ctx)
    entered_stage = [
        and_(
            Case.stage == stage,
            CaseEvent.to_state.in_(sorted(states)),
            or_(CaseEvent.from_state.is_(None), CaseEvent.from_state.not_in(sorted(states))),
        )
        for stage, states in stages.items()
    ]
    ew = ctx.calendars.calendar("england-and-wales")
    shortest = min([policy.stalled_working_days, *policy.stalled_by_stage.values()])
    loose = ew.add_working_days(ctx.today, -shortest) + timedelta(days=7)
    before = datetime.combine(loose, time.min, LOCAL_ZONE)
    entered = func.max(CaseEvent.occurred_at)
    rows = session.execute(
        select(*_CASE_COLUMNS, entered.label("entered_at"))
        .join(CaseEvent, CaseEvent.case_id == Case.id)
        .where(visible, Case.state.not_in(sorted(_finals(ctx))), or_(*entered_stage))
        .group_by(*_CASE_COLUMNS)
        .having(entered < before)
        .order_by(entered, Case.id)
        .limit(_STALLED_FETCH)
    ).all()
    items = []
    for row in rows:
        since = row.entered_at.astimezone(LOCAL_ZONE).date()
        calendar = ctx.calendars.calendar(
            _rulebook(ctx, row).calendar, codes.get(row.partnership_id)
        )
        days = calendar.working_days_between(since, ctx.today)
        if days <= policy.stalled_after(row.stage):
            continue
        state = word(row.state)
        reason = f"In '{state}' ({word(row.stage).lower()} stage) for {working_days(days)}"
        items.append(Item(_ref(row), reason, False, None, status="Stalled"))
    return items[: policy.limit], len(items)


def _reviews(session: Session, ctx: Context, visible: ColumnElement[bool]) -> list[Item]:
    """The open cases the person was commissioned to review, with their next deadline."""
    rows = session.execute(
        select(*_CASE_COLUMNS, Case.next_due_date)
        .join(CaseAssignment, CaseAssignment.case_id == Case.id)
        .where(
            visible,
            CaseAssignment.user_id == ctx.principal.user_id,
            CaseAssignment.role == "reviewer",
            Case.state.not_in(sorted(_finals(ctx))),
        )
        .order_by(Case.next_due_date, Case.id)
    ).all()
    items = []
    for row in rows:
        due: date | None = row.next_due_date
        reason = f"You review this case: in '{word(row.state)}'"
        if due is not None:
            reason += (
                f", next deadline {'overdue since' if due < ctx.today else 'due'} {due:%-d %B %Y}"
            )
        late = due is not None and due < ctx.today
        items.append(Item(_ref(row), reason, late, due, status="Overdue" if late else "Open"))
    return items
