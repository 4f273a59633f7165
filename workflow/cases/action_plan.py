"""Action plans: a final report's recommendations become actions owned by agencies,
monitored by the review group until each is signed off or closed with a reason
(Working Together 2023 ch.5; SI 2018/789 reg. 14: partners monitor the effect).

Every change here is a change of the case: If-Match on the case version, one
timeline event, one audit record, open-action counts and deadlines recomputed, in
the caller's transaction (flush, never commit).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.access.permissions import Perm
from workflow.cases.change import CaseChange
from workflow.context import Context
from workflow.core.errors import CommandNotAllowed, Forbidden, InvalidFacts
from workflow.core.inputs import CaseDate, Input
from workflow.storage.models import Action, ActionUpdate, Case, Document, Recommendation

Agency = Literal["local_authority", "police", "health_icb", "education", "other"]
OPEN_STATUSES = ("not_started", "in_progress", "completed_awaiting_evidence")
CLOSED_STATUSES = ("completed_signed_off", "not_achieved")
# States in which the action plan can be changed: once the final report exists.
PLAN_STATES = (
    "pre_publication",
    "publication_due",
    "publication_deferred",
    "action_plan_monitoring",
)


class _Strict(Input):
    pass


class AddAction(_Strict):
    """An action for one of the report's recommendations."""

    multiline_fields: ClassVar[frozenset[str]] = frozenset({"description"})
    recommendation_number: int = Field(ge=1, description="As numbered in the final report.")
    description: str = Field(min_length=1, max_length=5_000)
    agency: Agency
    agency_name: str | None = Field(
        default=None, max_length=200, description="Required when agency is `other`."
    )
    owner: str = Field(min_length=1, max_length=200, description="Owning role or contact.")
    owner_username: str | None = Field(
        default=None,
        max_length=128,
        description="The user (role action_owner) who reports progress on it, if any.",
    )
    due_date: CaseDate

    @model_validator(mode="after")
    def _named_other_agency(self) -> AddAction:
        if self.agency == "other" and not self.agency_name:
            raise ValueError("agency_name is required when agency is other")
        return self


class ReportProgress(_Strict):
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"note"})
    status: Literal["in_progress", "completed_awaiting_evidence"]
    note: str = Field(min_length=1, max_length=10_000)
    evidence: list[uuid.UUID] = Field(
        default_factory=list, max_length=20, description="Ids of documents attached to the case."
    )


class SignOff(_Strict):
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"note"})
    note: str = Field(min_length=1, max_length=5_000)


class NotAchieved(_Strict):
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"reason"})
    reason: str = Field(min_length=1, max_length=5_000)


def create_recommendations(
    session: Session, case: Case, texts: Sequence[str], now: datetime
) -> None:
    """Number the final report's recommendations 1..n (called by the engine)."""
    for number, text in enumerate(texts, start=1):
        session.add(Recommendation(case_id=case.id, number=number, text=text, created_at=now))
    session.flush()
    recount(session, case)


def recount(session: Session, case: Case) -> None:
    """Refresh the facts the `action_plan_complete` guard reads on the loaded case."""
    for name, value in counts(session, case).items():
        setattr(case, name, value)


def counts(session: Session, case: Case) -> dict[str, int]:
    """The facts the `action_plan_complete` guard reads, counted from the plan's rows."""
    open_actions = session.scalar(
        select(func.count())
        .select_from(Action)
        .where(Action.case_id == case.id, Action.status.in_(OPEN_STATUSES))
    )
    actioned = select(Action.recommendation_id).where(Action.case_id == case.id)
    unactioned = session.scalar(
        select(func.count())
        .select_from(Recommendation)
        .where(Recommendation.case_id == case.id, Recommendation.id.not_in(actioned))
    )
    return {"open_actions": open_actions or 0, "unactioned_recommendations": unactioned or 0}


def add_action(
    session: Session, ctx: Context, case_id: uuid.UUID, version: int, body: AddAction
) -> tuple[Case, Action]:
    change = _plan_change(session, ctx, case_id, version, Perm.ACTION_PLAN_MANAGE)
    case = change.case
    rec = session.scalar(
        select(Recommendation).where(
            Recommendation.case_id == case.id, Recommendation.number == body.recommendation_number
        )
    )
    if rec is None:
        raise InvalidFacts(
            f"the report has no recommendation {body.recommendation_number}",
            "recommendation_number",
        )
    action = Action(
        id=uuid.uuid4(),
        case_id=case.id,
        recommendation_id=rec.id,
        description=body.description,
        agency=body.agency,
        agency_name=body.agency_name,
        owner=body.owner,
        owner_username=body.owner_username,
        due_date=body.due_date,
        status="not_started",
        created_at=ctx.now,
        updated_at=ctx.now,
    )
    session.add(action)
    _changed(
        change,
        "add_action",
        {"action_id": str(action.id), **body.model_dump(mode="json")},
    )
    return case, action


def report_progress(
    session: Session,
    ctx: Context,
    case_id: uuid.UUID,
    version: int,
    action_id: uuid.UUID,
    body: ReportProgress,
) -> tuple[Case, Action]:
    change = _plan_change(session, ctx, case_id, version, Perm.ACTION_UPDATE)
    case = change.case
    action = _action(session, case, action_id)
    manages = ctx.principal.may(Perm.ACTION_PLAN_MANAGE, case.partnership_id, case.id)
    if not manages and action.owner_username != ctx.principal.username:
        raise Forbidden("only the action's owner or the review group may report progress")
    _open(action)
    for document_id in body.evidence:
        document = session.get(Document, document_id)
        if document is None or document.case_id != case.id:
            raise InvalidFacts(f"no document {document_id} on this case", "evidence")
    return case, _set_status(
        change,
        action,
        body.status,
        body.note,
        [str(e) for e in body.evidence],
        "action_progress",
    )


def sign_off(
    session: Session,
    ctx: Context,
    case_id: uuid.UUID,
    version: int,
    action_id: uuid.UUID,
    body: SignOff,
) -> tuple[Case, Action]:
    change = _plan_change(session, ctx, case_id, version, Perm.ACTION_PLAN_MANAGE)
    case = change.case
    action = _action(session, case, action_id)
    if action.status != "completed_awaiting_evidence":
        raise CommandNotAllowed(
            f"action is {action.status}; only completed actions awaiting evidence can be "
            "signed off",
            current_state=action.status,
            allowed_actions=["action_progress"] if action.status in OPEN_STATUSES else [],
        )
    return case, _set_status(
        change, action, "completed_signed_off", body.note, [], "sign_off_action"
    )


def not_achieved(
    session: Session,
    ctx: Context,
    case_id: uuid.UUID,
    version: int,
    action_id: uuid.UUID,
    body: NotAchieved,
) -> tuple[Case, Action]:
    change = _plan_change(session, ctx, case_id, version, Perm.ACTION_PLAN_MANAGE)
    case = change.case
    action = _action(session, case, action_id)
    _open(action)
    action.status_reason = body.reason
    return case, _set_status(
        change, action, "not_achieved", body.reason, [], "close_action_not_achieved"
    )


def _plan_change(
    session: Session, ctx: Context, case_id: uuid.UUID, version: int, perm: str
) -> CaseChange:
    change = CaseChange.begin(session, ctx, case_id, version, perm)
    if change.case.state not in PLAN_STATES:
        raise CommandNotAllowed(
            f"the action plan can change only once the final report is in (state is "
            f"{change.case.state!r})",
            current_state=change.case.state,
            allowed_actions=[],
        )
    return change


def _action(session: Session, case: Case, action_id: uuid.UUID) -> Action:
    action = session.get(Action, action_id)
    if action is None or action.case_id != case.id:
        raise InvalidFacts(f"no action {action_id} on this case", "action_id")
    return action


def _open(action: Action) -> None:
    if action.status in CLOSED_STATUSES:
        raise CommandNotAllowed(
            f"action is already {action.status}", current_state=action.status, allowed_actions=[]
        )


def _set_status(
    change: CaseChange, action: Action, status: str, note: str, evidence: list[str], event: str
) -> Action:
    ctx = change.ctx
    action.status, action.updated_at = status, ctx.now
    change.session.add(
        ActionUpdate(
            action_id=action.id,
            recorded_at=ctx.now,
            actor=ctx.actor,
            status=status,
            note=note,
            evidence=evidence,
        )
    )
    _changed(
        change,
        event,
        {"action_id": str(action.id), "status": status, "note": note, "evidence": evidence},
    )
    return action


def _changed(change: CaseChange, event: str, payload: dict[str, Any]) -> None:
    with change:
        change.session.flush()  # the plan's new rows, then count them
        change.record(event, payload, counts(change.session, change.case))
