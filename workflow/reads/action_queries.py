"""Reading action plans: one case's plan, and open / overdue actions across the
caller's cases (by agency, by theme).

The views are already redacted for the caller (workflow/access/disclosure.py): a
personal field it may not be shown is None, so the API's schemas and the pages only
render them. A view that holds personal data names its cases (`personal_cases`); the
caller records that read (`queries.record_reads`) before sending it. A command's
answer (`plan_of` after a change) needs no such record: the command is audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.access.disclosure import shows_personal
from workflow.access.scoping import case_filter, sees_personal_data, visible_case
from workflow.cases.action_plan import CLOSED_STATUSES, OPEN_STATUSES
from workflow.context import Context
from workflow.storage.models import Action, ActionUpdate, Case, Recommendation, ThemeTag

DUE_SOON_WORKING_DAYS = 10


@dataclass(frozen=True)
class UpdateView:
    recorded_at: datetime
    actor: str
    status: str
    note: str | None  # personal data
    evidence: list[str]


@dataclass(frozen=True)
class ActionView:
    """One action as the caller may see it: None for each withheld personal field."""

    id: uuid.UUID
    case_id: uuid.UUID
    recommendation_number: int
    description: str | None
    agency: str
    agency_name: str | None
    owner: str | None
    owner_username: str | None
    due_date: date
    status: str
    status_reason: str | None
    overdue: bool
    due_soon: bool  # open and due within DUE_SOON_WORKING_DAYS working days
    updates: list[UpdateView]
    personal: bool  # its personal fields are shown


@dataclass(frozen=True)
class RecommendationView:
    id: uuid.UUID
    number: int
    text: str | None  # personal data (the final report's words)


@dataclass(frozen=True)
class PlanView:
    case: Case
    recommendations: list[RecommendationView]
    actions: list[ActionView]

    @property
    def personal_cases(self) -> list[uuid.UUID]:
        """[the case] if any personal data of it is shown, else []."""
        shown = any(r.text is not None for r in self.recommendations) or any(
            a.personal for a in self.actions
        )
        return [self.case.id] if shown else []


def personal_cases(actions: list[ActionView]) -> list[uuid.UUID]:
    """The cases whose personal data `actions` show, each once."""
    return list(dict.fromkeys(a.case_id for a in actions if a.personal))


def _view(
    ctx: Context,
    partnership_id: uuid.UUID,
    action: Action,
    number: int,
    updates: list[ActionUpdate],
) -> ActionView:
    shown = shows_personal(
        ctx.principal, partnership_id, action.case_id, action_owner=action.owner_username
    )
    overdue, due_soon = _flags(ctx, action)
    return ActionView(
        id=action.id,
        case_id=action.case_id,
        recommendation_number=number,
        description=action.description if shown else None,
        agency=action.agency,
        agency_name=action.agency_name,
        owner=action.owner if shown else None,
        owner_username=action.owner_username if shown else None,
        due_date=action.due_date,
        status=action.status,
        status_reason=action.status_reason if shown else None,
        overdue=overdue,
        due_soon=due_soon,
        updates=[
            UpdateView(
                u.recorded_at, u.actor, u.status, u.note if shown else None, list(u.evidence)
            )
            for u in updates
        ],
        personal=shown,
    )


def _flags(ctx: Context, action: Action) -> tuple[bool, bool]:
    if action.status in CLOSED_STATUSES:
        return False, False
    today = ctx.today
    soon = ctx.calendars.calendar("england-and-wales").add_working_days(
        today, DUE_SOON_WORKING_DAYS
    )
    return action.due_date < today, today <= action.due_date <= soon


def plan_of(session: Session, ctx: Context, case_id: uuid.UUID) -> PlanView:
    case = visible_case(session, ctx.principal, case_id)
    recs = list(
        session.scalars(
            select(Recommendation)
            .where(Recommendation.case_id == case.id)
            .order_by(Recommendation.number)
        )
    )
    numbers = {r.id: r.number for r in recs}
    actions = list(
        session.scalars(
            select(Action)
            .join(Recommendation, Recommendation.id == Action.recommendation_id)
            .where(Action.case_id == case.id)
            .order_by(Recommendation.number, Action.created_at, Action.id)
        )
    )
    updates: dict[uuid.UUID, list[ActionUpdate]] = {a.id: [] for a in actions}
    for u in session.scalars(
        select(ActionUpdate)
        .where(ActionUpdate.action_id.in_(list(updates)))
        .order_by(ActionUpdate.id)
    ):
        updates[u.action_id].append(u)
    texts = sees_personal_data(ctx.principal, case)  # recommendations: case-level
    return PlanView(
        case,
        [RecommendationView(r.id, r.number, r.text if texts else None) for r in recs],
        [
            _view(ctx, case.partnership_id, a, numbers[a.recommendation_id], updates[a.id])
            for a in actions
        ],
    )


@dataclass(frozen=True)
class ActionFilter:
    agency: str | None = None
    status: str | None = None  # open | overdue | a status value
    theme: str | None = None
    due_before: date | None = None


def find_actions(
    session: Session, ctx: Context, wanted: ActionFilter, limit: int
) -> list[ActionView]:
    """Actions of every case the caller may list, most urgent (earliest due) first
    (without their updates)."""
    stmt = (
        select(Action, Recommendation.number, Case.partnership_id)
        .join(Case, Case.id == Action.case_id)
        .join(Recommendation, Recommendation.id == Action.recommendation_id)
        .where(case_filter(ctx.principal))
    )
    if wanted.agency:
        stmt = stmt.where(Action.agency == wanted.agency)
    if wanted.status in ("open", "overdue"):
        stmt = stmt.where(Action.status.in_(OPEN_STATUSES))
        if wanted.status == "overdue":
            stmt = stmt.where(Action.due_date < ctx.today)
    elif wanted.status:
        stmt = stmt.where(Action.status == wanted.status)
    if wanted.due_before:
        stmt = stmt.where(Action.due_date <= wanted.due_before)
    if wanted.theme:
        stmt = stmt.where(
            Action.id.in_(
                select(ThemeTag.subject_id).where(
                    ThemeTag.subject_type == "action", ThemeTag.theme == wanted.theme
                )
            )
        )
    rows = session.execute(stmt.order_by(Action.due_date, Action.id).limit(limit)).all()
    return [_view(ctx, partnership, a, number, []) for a, number, partnership in rows]
