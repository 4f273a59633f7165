"""Server-side sessions of signed-in browsers: start, resume, touch, end.

A session is a row of `web_session` (workflow/storage/models/access.py). The browser holds
only an opaque 256-bit random id; the row holds its SHA-256 (a fast hash is right
for a high-entropy secret), the user, the instants and the secret that proves the
session's forms (CSRF). Every check reads the row, so every worker process agrees:
a session ended in one process is ended in all of them at once.

A session is valid while it is not ended, it was seen within the idle timeout and
it began within the absolute timeout. Expiry is decided by time alone, so reads
write nothing; an expired row is removed at a later sign-in of its user. Activity
is recorded at most once per `touch_every`, so the idle timeout is exact to that
granularity. Functions flush, never commit; `now` is always an argument (the CLI's
account commands, which have no clock, pass None: the wall clock).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from workflow.core.errors import NotAuthenticated
from workflow.storage.models import User, WebSession

API_TOKEN = "api_token"  # noqa: S105 - a sign-in method's name, not a secret
MAX_ID_LENGTH = 64  # longer cookie values are refused unread
_KEEP_ENDED = timedelta(days=30)  # ended or expired rows kept this long, then removed


@dataclass(frozen=True)
class SessionPolicy:
    """CASEREVIEW_SESSION_IDLE_MINUTES / CASEREVIEW_SESSION_ABSOLUTE_HOURS."""

    idle: timedelta = timedelta(minutes=30)
    absolute: timedelta = timedelta(hours=12)
    touch_every: timedelta = timedelta(minutes=1)


@dataclass(frozen=True)
class IssuedSession:
    """A new session: `secret` goes into the cookie and is never stored."""

    id: uuid.UUID
    secret: str
    csrf_token: str


@dataclass(frozen=True)
class ActiveSession:
    """A valid session found by its cookie; `stale`: its activity should be recorded."""

    id: uuid.UUID
    user: User
    csrf_token: str
    stale: bool


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def start(
    session: Session,
    user_id: uuid.UUID,
    now: datetime,
    *,
    method: str = API_TOKEN,
    replaces: str | None = None,
) -> IssuedSession:
    """A new session for a user who has just proved who they are. A new id at every
    sign-in: the browser's previous session (`replaces`, its cookie) is ended, so an
    id planted in or read from a browser before sign-in is worth nothing after it."""
    if replaces:
        end(session, replaces, now, "replaced")
    session.execute(  # the user's long-dead rows: keeps the table bounded
        delete(WebSession).where(
            WebSession.user_id == user_id,
            or_(
                WebSession.ended_at < now - _KEEP_ENDED, WebSession.last_seen_at < now - _KEEP_ENDED
            ),
        )
    )
    secret, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    row = WebSession(
        id=uuid.uuid4(),
        session_hash=_hash(secret),
        user_id=user_id,
        method=method,
        csrf_secret=csrf,
        created_at=now,
        last_seen_at=now,
    )
    session.add(row)
    session.flush()
    return IssuedSession(row.id, secret, csrf)


def resume(session: Session, secret: str, now: datetime, policy: SessionPolicy) -> ActiveSession:
    """The valid session a cookie names, or NotAuthenticated (one message for every
    failure: unknown, ended, idle, too old, or its user disabled). Writes nothing."""
    if not secret or len(secret) > MAX_ID_LENGTH:
        raise NotAuthenticated("the session has ended; sign in again")
    found = session.execute(
        select(WebSession, User)
        .join(User, User.id == WebSession.user_id)
        .where(WebSession.session_hash == _hash(secret))
    ).first()
    if found is None:
        raise NotAuthenticated("the session has ended; sign in again")
    row, user = found
    if (
        row.ended_at is not None
        or not user.is_active
        or now - row.last_seen_at >= policy.idle
        or now - row.created_at >= policy.absolute
    ):
        raise NotAuthenticated("the session has ended; sign in again")
    return ActiveSession(
        row.id, user, row.csrf_secret, now - row.last_seen_at >= policy.touch_every
    )


def touch(session: Session, session_id: uuid.UUID, now: datetime, policy: SessionPolicy) -> None:
    """Record activity: the idle timeout counts from `now`. Only a session that is still
    valid at this instant is moved (one conditional UPDATE, so a sign-out or a
    revocation committed meanwhile by another process wins); otherwise
    NotAuthenticated."""
    moved = session.execute(
        update(WebSession)
        .where(
            WebSession.id == session_id,
            WebSession.ended_at.is_(None),
            WebSession.last_seen_at > now - policy.idle,
            WebSession.created_at > now - policy.absolute,
        )
        .values(last_seen_at=now)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:  # type: ignore[attr-defined]
        raise NotAuthenticated("the session has ended; sign in again")


def end(session: Session, secret: str, now: datetime, reason: str = "signed_out") -> bool:
    """End the session a cookie names (sign-out); True if it was still open."""
    if not secret or len(secret) > MAX_ID_LENGTH:
        return False
    ended = session.execute(
        update(WebSession)
        .where(WebSession.session_hash == _hash(secret), WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return bool(ended.rowcount)  # type: ignore[attr-defined]


def end_all(session: Session, user_id: uuid.UUID, now: datetime, reason: str) -> int:
    """End every open session of a user (disabled, a role or a token revoked): the
    browser must sign in again, and gets only what the user may now do. The count."""
    ended = session.execute(
        update(WebSession)
        .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
        .values(ended_at=now, end_reason=reason)
        .execution_options(synchronize_session=False)
    )
    return int(ended.rowcount)  # type: ignore[attr-defined]


def proves_form(active: ActiveSession, token: str | None) -> bool:
    """Whether a submitted CSRF token is this session's (constant-time comparison)."""
    return bool(token) and hmac.compare_digest(active.csrf_token.encode(), (token or "").encode())
