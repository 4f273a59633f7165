"""Response models of action plans. The views they render are already redacted for
the caller (workflow/access/disclosure.py): a withheld field is null."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from workflow.reads.action_queries import ActionView, PlanView

WITHHELD = "Personal data: null when your role does not include personal data"


class ActionUpdateOut(BaseModel):
    recorded_at: datetime
    actor: str
    status: str
    note: str | None = Field(description=f"{WITHHELD}.")
    evidence: list[str]


class ActionOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    recommendation_number: int
    description: str | None = Field(
        description=f"{WITHHELD} (an action owner sees the actions assigned to them)."
    )
    agency: str
    agency_name: str | None
    owner: str | None = Field(description=f"{WITHHELD}.")
    owner_username: str | None = Field(
        description=f"The user who reports progress on it, if any. {WITHHELD}."
    )
    due_date: date
    status: str = Field(
        description="not_started, in_progress, completed_awaiting_evidence, "
        "completed_signed_off, not_achieved"
    )
    status_reason: str | None = Field(description=f"{WITHHELD}.")
    overdue: bool
    due_soon: bool
    updates: list[ActionUpdateOut]

    @classmethod
    def of(cls, v: ActionView) -> ActionOut:
        return cls(
            id=v.id,
            case_id=v.case_id,
            recommendation_number=v.recommendation_number,
            description=v.description,
            agency=v.agency,
            agency_name=v.agency_name,
            owner=v.owner,
            owner_username=v.owner_username,
            due_date=v.due_date,
            status=v.status,
            status_reason=v.status_reason,
            overdue=v.overdue,
            due_soon=v.due_soon,
            updates=[
                ActionUpdateOut(
                    recorded_at=u.recorded_at,
                    actor=u.actor,
                    status=u.status,
                    note=u.note,
                    evidence=u.evidence,
                )
                for u in v.updates
            ],
        )


class RecommendationOut(BaseModel):
    id: uuid.UUID
    number: int
    text: str | None = Field(description=f"{WITHHELD}.")


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
