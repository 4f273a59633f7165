"""Reading action plans: one case's plan, and open / overdue actions across the
caller's cases (by agency, by theme)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.models import Action, ActionUpdate, Case, Recommendation, ThemeTag
from workflow.services.access import case_filter, visible_case
from workflow.services.action_plan import CLOSED_STATUSES, OPEN_STATUSES
from workflow.services.base import Context

DUE_SOON_WORKING_DAYS = 10


@dataclass(frozen=True)
class ActionView:
    action: Action
    recommendation_number: int
    overdue: bool
    due_soon: bool  # open and due within DUE_SOON_WORKING_DAYS working days
    updates: list[ActionUpdate]


@dataclass(frozen=True)
class PlanView:
    case: Case
    recommendations: list[Recommendation]
    actions: list[ActionView]


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
    return PlanView(
        case,
        recs,
        [
            ActionView(a, numbers[a.recommendation_id], *_flags(ctx, a), updates[a.id])
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
    """Actions of every case the caller may list, most urgent (earliest due) first."""
    stmt = (
        select(Action, Recommendation.number)
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
    return [ActionView(a, number, *_flags(ctx, a), []) for a, number in rows]
