"""The audit records of account administration: who changed who may do what, when,
from where.

Which chain: a role granted or revoked is recorded in the chain of the partnership it
is held in (the partnership's administrators verify it); everything else (partnerships,
users, sign-on mappings, e-mail, API tokens, disabling) in the "system" chain.

What a record holds: ids, the username (a member of staff's identifier, already the
`actor` of every record they write), roles, partnership codes, the sign-on issuer, and
outcomes. Never a display name, an e-mail address, a sign-on subject (at some issuers an
e-mail address), a token's secret, hash or label (free text). A call that changes
nothing (a role already held, a token already revoked) is recorded as "unchanged".
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workflow.access.permissions import Perm, permissions_of
from workflow.access.principal import Principal
from workflow.audit import chain as audit
from workflow.storage.models import Partnership, User


@dataclass(frozen=True)
class Actor:
    """Who changes an account and from where, as the audit record names them.

    `name`: "cli:<OS login>" for the CLI, the principal's username for the API; `origin`:
    "cli <host name>" for the CLI, the client's address (and agent) for HTTP."""

    name: str
    origin: str

    @classmethod
    def of(cls, principal: Principal, client: str) -> Actor:
        """An authenticated caller of the API (or a web page) at `client`."""
        return cls(principal.username, client)


def user_detail(user: User) -> dict[str, Any]:
    return {"user_id": str(user.id), "username": user.username}


def role_detail(partnership: Partnership, role: str) -> dict[str, Any]:
    perms = permissions_of(role)
    return {
        "partnership": partnership.code,
        "role": role,
        "personal_data": Perm.CASE_READ_PERSONAL in perms or Perm.DOCUMENT_READ_UNREDACTED in perms,
    }


def record(
    session: Session,
    by: Actor,
    now: datetime,
    action: str,
    detail: Mapping[str, Any],
    *,
    changed: bool = True,
    chain: str = audit.SYSTEM_CHAIN,
) -> None:
    """Append one account-administration record in the caller's transaction."""
    audit.append(
        session,
        chain=chain,
        occurred_at=now,
        actor=by.name,
        action=action,
        case_id=None,
        client=by.origin,
        outcome="ok" if changed else "unchanged",
        detail=detail,
    )
