"""Giving an independent reviewer access to the one case they review."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.access.permissions import Role
from workflow.core.errors import InvalidFacts
from workflow.storage.models import Case, CaseAssignment, Membership, User


def assign_reviewer(session: Session, case: Case, username: str, now: datetime) -> None:
    """Assign `username` (who must hold the reviewer role in the case's partnership)."""
    user = session.scalar(select(User).where(User.username == username))
    role_held = (
        user is not None
        and session.get(Membership, (user.id, case.partnership_id, Role.REVIEWER.value)) is not None
    )
    if user is None or not role_held:
        raise InvalidFacts(
            f"{username!r} is not a reviewer of this case's partnership", "reviewer_username"
        )
    if session.get(CaseAssignment, (case.id, user.id)) is None:
        session.add(
            CaseAssignment(
                case_id=case.id, user_id=user.id, role=Role.REVIEWER.value, assigned_at=now
            )
        )
