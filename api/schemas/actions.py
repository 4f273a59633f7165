"""Response models of action plans."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from workflow.services.action_queries import ActionView, PlanView


class ActionUpdateOut(BaseModel):
    recorded_at: datetime
    actor: str
    status: str
    note: str
    evidence: list[str]


class ActionOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    recommendation_number: int
    description: str
    agency: str
    agency_name: str | None
    owner: str
    owner_username: str | None
    due_date: date
    status: str = Field(
        description="not_started, in_progress, completed_awaiting_evidence, "
        "completed_signed_off, not_achieved"
    )
    status_reason: str | None
    overdue: bool
    due_soon: bool
    updates: list[ActionUpdateOut]

    @classmethod
    def of(cls, v: ActionView) -> ActionOut:
        a = v.action
        return cls(
            id=a.id,
            case_id=a.case_id,
            recommendation_number=v.recommendation_number,
            description=a.description,
            agency=a.agency,
            agency_name=a.agency_name,
            owner=a.owner,
            owner_username=a.owner_username,
            due_date=a.due_date,
            status=a.status,
            status_reason=a.status_reason,
            overdue=v.overdue,
            due_soon=v.due_soon,
            updates=[
                ActionUpdateOut(
                    recorded_at=u.recorded_at,
                    actor=u.actor,
                    status=u.status,
                    note=u.note,
                    evidence=list(u.evidence),
                )
                for u in v.updates
            ],
        )


class RecommendationOut(BaseModel):
    id: uuid.UUID
    number: int
    text: str


class ActionPlanOut(BaseModel):
    case_id: uuid.UUID
    version: int
    recommendations: list[RecommendationOut]
    actions: list[ActionOut]
    open_actions: int
    unactioned_recommendations: int

    @classmethod
    def of(cls, plan: PlanView) -> ActionPlanOut:
        return cls(
            case_id=plan.case.id,
            version=plan.case.version,
            recommendations=[
                RecommendationOut(id=r.id, number=r.number, text=r.text)
                for r in plan.recommendations
            ],
            actions=[ActionOut.of(a) for a in plan.actions],
            open_actions=plan.case.open_actions,
            unactioned_recommendations=plan.case.unactioned_recommendations,
        )


class ActionList(BaseModel):
    items: list[ActionOut]
