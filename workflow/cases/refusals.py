"""Auditing a refused change: the refusal is itself a record of the trail.

The gateway (api/gateway.py) calls this in a transaction of its own when the domain
refuses a change, so the refusal is kept although the change rolled back.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from workflow.audit import chain as audit
from workflow.context import Context
from workflow.storage.models import Case, Partnership


def record_refusal(
    session: Session, ctx: Context, action: str, case_id: uuid.UUID | None, outcome: str
) -> None:
    """Audit a refused request in the chain of the case's partnership (or "system")."""
    chain = audit.SYSTEM_CHAIN
    case = session.get(Case, case_id) if case_id else None
    if case is not None:
        partnership = session.get(Partnership, case.partnership_id)
        chain = partnership.code if partnership else chain
    ctx.audit(
        session,
        action,
        chain=chain,
        case_id=case_id if case is not None else None,
        outcome=outcome,
        detail={} if case is not None else {"case_id_given": bool(case_id)},
    )
