"""Audit use cases: verify the chains a caller administers."""

from __future__ import annotations

from sqlalchemy.orm import Session

from workflow.access.permissions import Perm
from workflow.access.principal import Principal
from workflow.audit import chain
from workflow.errors import Forbidden


def verify_for(session: Session, principal: Principal) -> list[chain.ChainReport]:
    """Every chain of the partnerships where the caller may verify the audit trail;
    a system administrator verifies every chain, "system" included."""
    if principal.is_system_admin:
        return chain.verify_all(session)
    codes = sorted(
        {g.partnership_code for g in principal.grants if Perm.AUDIT_VERIFY in g.permissions}
    )
    if not codes:
        raise Forbidden("your roles do not allow verifying the audit trail")
    return chain.verify_all(session, only=codes)
