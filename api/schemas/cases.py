"""Response models for cases, timelines and next actions."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from api.schemas.deadlines import DeadlineOut
from workflow.core.facts import ALL_FACTS
from workflow.reads.queries import CaseView
from workflow.storage.models import Case, CaseEvent


class RulebookRef(BaseModel):
    id: str
    version: int


class CaseFacts(BaseModel):
    incident_date: date | None
    aware_date: date | None
    notification_date: date | None
    partners_informed_date: date | None
    rapid_review_meeting_date: date | None
    rapid_review_sent_date: date | None
    decision_date: date | None
    decision_sent_to_panel_date: date | None
    panel_response_date: date | None
    reviewer_commissioned_date: date | None
    terms_of_reference_date: date | None
    final_report_date: date | None
    report_sent_to_panel_date: date | None
    planned_publication_date: date | None
    published_date: date | None
    withdrawn_date: date | None
    deferred_date: date | None
    deferral_review_by_date: date | None
    closed_date: date | None
    family_informed_date: date | None
    family_invited_date: date | None
    family_contributed_date: date | None
    family_declined_date: date | None
    family_told_before_publication_date: date | None
    practitioner_event_date: date | None
    notifiable: bool
    meets_review_criteria: bool
    decision: str | None
    panel_agrees: bool | None
    panel_takes_national_review: bool | None
    reviewer_independent: bool | None
    publication_status: str | None
    close_reason: str | None
    open_actions: int
    unactioned_recommendations: int
    carried_by_thematic: bool
    kind: str = Field(description="incident, or thematic (a review covering several cases)")


class CaseSummary(BaseModel):
    id: uuid.UUID
    local_reference: str | None
    rulebook: RulebookRef
    state: str
    stage: str
    version: int
    created_at: datetime
    updated_at: datetime
    aware_date: date | None

    partnership_id: uuid.UUID
    kind: str
    title: str | None

    @classmethod
    def of(cls, case: Case) -> CaseSummary:
        return cls(
            id=case.id,
            local_reference=case.local_reference,
            partnership_id=case.partnership_id,
            kind=case.kind,
            title=case.title,
            rulebook=RulebookRef(id=case.rulebook_id, version=case.rulebook_version),
            state=case.state,
            stage=case.stage,
            version=case.version,
            created_at=case.created_at,
            updated_at=case.updated_at,
            aware_date=case.aware_date,
        )


class CaseLinks(BaseModel):
    carried_by: list[uuid.UUID] = Field(description="Thematic reviews carrying its learning.")
    sources: list[uuid.UUID] = Field(description="A thematic review's source cases.")


class CaseOut(CaseSummary):
    facts: CaseFacts
    records: dict[str, Any] | None = Field(
        description="The latest record of each stage (incident, rapid_review, decision, ...). "
        "Personal data: null for roles that may not see it."
    )
    allowed_actions: list[str] = Field(
        description="Commands the rulebook allows next and your roles permit."
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Deadlines this command met late (the rulebook warns, not refuses).",
    )
    links: CaseLinks
    deadlines: list[DeadlineOut] = Field(
        description="Every deadline of the case's rulebook that applies, as of today."
    )

    @classmethod
    def of_view(cls, view: CaseView) -> CaseOut:
        case = view.case
        summary = CaseSummary.of(case).model_dump()
        facts = {name: getattr(case, name) for name in ALL_FACTS}
        if not view.personal:
            facts["close_reason"] = None
        return cls(
            **summary,
            facts=CaseFacts(**facts),
            records=dict(case.details) if view.personal else None,
            allowed_actions=view.allowed_actions,
            deadlines=[DeadlineOut.of(d) for d in view.deadlines],
            links=CaseLinks(carried_by=view.carried_by, sources=view.sources),
        )


class CaseListItem(CaseSummary):
    next_deadline: str | None = Field(description="The earliest pending deadline.")
    next_due_date: date | None


class CasePage(BaseModel):
    items: list[CaseListItem]
    next_cursor: str | None


class TimelineEvent(BaseModel):
    sequence: int = Field(description="The case version this event produced.")
    event_type: str
    from_state: str | None
    to_state: str
    occurred_at: datetime
    actor: str
    payload: dict[str, Any] | None = Field(
        description="Personal data: null for roles that may not see it."
    )

    @classmethod
    def of(cls, event: CaseEvent, personal: bool) -> TimelineEvent:
        return cls(
            sequence=event.sequence,
            event_type=event.event_type,
            from_state=event.from_state,
            to_state=event.to_state,
            occurred_at=event.occurred_at,
            actor=event.actor,
            payload=event.payload if personal else None,
        )


class Timeline(BaseModel):
    case_id: uuid.UUID
    items: list[TimelineEvent]


class NextActionOut(BaseModel):
    action: str = Field(description="The rulebook trigger.")
    method: str = "POST"
    path: str
    leads_to: list[str]


class NextActions(BaseModel):
    case_id: uuid.UUID
    state: str
    version: int
    actions: list[NextActionOut]
