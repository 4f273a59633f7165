"""Audit use cases: verify the chains a caller administers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from workflow.access.permissions import Perm
from workflow.access.principal import Principal
from workflow.audit.checkpoint import CheckpointFile, CheckpointUnavailable
from workflow.audit.verification import Verification, verify
from workflow.core.errors import Forbidden


def verifiable(principal: Principal) -> list[str] | None:
    """The chains the caller may verify: None for a system administrator (every
    chain, "system" and removed ones included), else the partnerships where they hold
    audit.verify. Raises Forbidden when there are none; needs no database, so a
    caller without the right is refused before anything is read."""
    if principal.is_system_admin:
        return None
    codes = sorted(
        {g.partnership_code for g in principal.grants if Perm.AUDIT_VERIFY in g.permissions}
    )
    if not codes:
        raise Forbidden("your roles do not allow verifying the audit trail")
    return codes


def verify_for(
    session: Session,
    principal: Principal,
    checkpoints: CheckpointFile | CheckpointUnavailable | None = None,
) -> Verification:
    """The caller's chains (`verifiable`), each against its checkpoint if there is one
    (verification.verify)."""
    return verify(session, checkpoints, only=verifiable(principal))
