"""Who an e-mail subscription addressed to a role reaches: every active user holding
that role in the subscription's partnership who has an e-mail address, read at each
delivery (so joiners, leavers and changed addresses count from the next message on).

The addresses exist only in the claimed delivery in memory: never stored on the
delivery, never logged (staff personal data)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.storage.models import Membership, User


def role_addresses(session: Session, partnership_id: uuid.UUID, role: str) -> list[str]:
    """The addresses, sorted, each once."""
    rows = session.scalars(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(
            Membership.partnership_id == partnership_id,
            Membership.role == role,
            User.is_active.is_(True),
            User.email.is_not(None),
        )
        .distinct()
        .order_by(User.email)
    )
    return [e for e in rows if e]
