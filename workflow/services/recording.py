"""Recording a change of a case: its timeline event and its audit record."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from workflow.audit import chain as audit
from workflow.models import Case, CaseEvent, Partnership
from workflow.services.base import Context


def record_change(
    session: Session,
    ctx: Context,
    case: Case,
    event_type: str,
    from_state: str,
    payload: dict[str, Any],
) -> None:
    """One timeline event (the case's current version) and one audit record."""
    session.add(timeline_event(case, event_type, from_state, case.state, payload, ctx))
    partnership = session.get(Partnership, case.partnership_id)
    assert partnership is not None
    audit_ok(session, ctx, partnership.code, case, event_type)


def audit_ok(session: Session, ctx: Context, chain: str, case: Case, action: str) -> None:
    audit.append(
        session,
        chain=chain,
        occurred_at=ctx.now,
        actor=ctx.actor,
        action=action,
        case_id=case.id,
        client=ctx.client,
        outcome="ok",
        detail={"version": case.version, "state": case.state},
    )


def timeline_event(
    case: Case,
    event_type: str,
    from_state: str,
    to_state: str,
    payload: dict[str, Any],
    ctx: Context,
) -> CaseEvent:
    return CaseEvent(
        case_id=case.id,
        sequence=case.version,
        event_type=event_type,
        from_state=None if from_state == "start" else from_state,
        to_state=to_state,
        occurred_at=ctx.now,
        actor=ctx.actor,
        payload=payload,
    )
