"""One-time set-password links (`casereview users invite USER`).

Contracts: the link's token (32 random bytes, URL-safe) is shown once; only its SHA-256
is stored. It is valid for 72 hours from issue and for one use; issuing a new invite
ends the user's earlier unused ones. Redeeming checks the password rules first, so a
refused password leaves the invite usable. Issuing and redeeming are audited (never
the token or the password).
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow.access import passwords
from workflow.access.account_audit import Actor, record, user_detail
from workflow.core.errors import NotAuthenticated
from workflow.storage.models import PasswordInvite, User

VALID_FOR = timedelta(hours=72)
PATH = "/session/password/"  # the set-password page; the link is PATH + token


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(session: Session, user: User, *, now: datetime, by: Actor) -> str:
    """A new invite's token (shown once)."""
    session.execute(
        update(PasswordInvite)
        .where(PasswordInvite.user_id == user.id, PasswordInvite.used_at.is_(None))
        .values(used_at=now)
    )
    token = secrets.token_urlsafe(32)
    session.add(
        PasswordInvite(
            token_hash=_hash(token), user_id=user.id, created_at=now, expires_at=now + VALID_FOR
        )
    )
    session.flush()
    detail = {**user_detail(user), "valid_hours": int(VALID_FOR.total_seconds() // 3600)}
    record(session, by, now, "account.password_invite_issued", detail)
    return token


def user_of(session: Session, token: str, now: datetime) -> tuple[PasswordInvite, User]:
    """The valid invite of `token` and its (active) user; NotAuthenticated when the token
    is unknown, used, expired or its user disabled (one answer for all)."""
    invite = session.scalar(select(PasswordInvite).where(PasswordInvite.token_hash == _hash(token)))
    user = session.get(User, invite.user_id) if invite is not None else None
    if invite is None or invite.used_at is not None or invite.expires_at <= now:
        raise NotAuthenticated("this set-password link is not valid (used or expired)")
    if user is None or not user.is_active:
        raise NotAuthenticated("this set-password link is not valid (used or expired)")
    return invite, user


def redeem(session: Session, token: str, password: str, *, now: datetime, by: Actor) -> User:
    """Set the invite's user's password and use the invite up."""
    invite, user = user_of(session, token, now)
    passwords.set_password(session, user, password, now=now, by=by)
    invite.used_at = now
    session.flush()
    return user
