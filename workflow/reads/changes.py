"""The change feed: what happened to the caller's cases since a cursor, in order.

Each item is one timeline event (never its payload); the cursor wraps the event's
id, so a client resumes exactly where it stopped. Only cases the caller may list
are included (`case_filter`).

Ids and commit order. On SQLite every write holds the database's write lock, so
ids are committed in id order. On PostgreSQL (READ COMMITTED) a transaction can
commit a smaller id after another committed a larger one; a cursor already past
the larger id would then skip the smaller one for ever. Within one partnership this
cannot happen: every writer inserts its timeline event while holding the row lock
of the partnership's audit chain head (workflow/cases/recording.py,
workflow/audit/chain.py) until it commits. So a caller whose cases all lie in one
partnership reads the feed as is; for a caller whose scope spans partnerships the
feed reads only up to a *settled* id: the largest id, read just before seeing in
pg_locks that no other transaction holds an uncommitted insert into case_event
(every id up to it is then committed or rolled back; ids come from a sequence
without a cache, so later ones are larger). Under a constant stream of
concurrent writes such a caller may see a page with nothing new; it catches up on
a later poll.
"""

from __future__ import annotations

import base64
import binascii
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from workflow.access.permissions import Perm
from workflow.access.principal import Principal
from workflow.access.scoping import case_filter
from workflow.core.errors import InvalidCursor
from workflow.storage.database import DatabaseUnavailable
from workflow.storage.models import Case, CaseEvent

LATEST = "latest"
_PREFIX = "ev1:"
SETTLE_ATTEMPTS = 5  # tries at finding no uncommitted event insert (PostgreSQL only)
SETTLE_PAUSE_S = 0.02
_INSERTS_IN_FLIGHT = text(
    "SELECT count(*) FROM pg_locks"
    " WHERE locktype = 'relation' AND relation = 'case_event'::regclass"
    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
    " AND mode = 'RowExclusiveLock' AND pid <> pg_backend_pid()"
)


@dataclass(frozen=True)
class Change:
    cursor: str
    case_id: uuid.UUID
    event_type: str
    from_state: str | None
    to_state: str
    version: int  # the case version this change produced
    occurred_at: datetime


@dataclass(frozen=True)
class ChangePage:
    items: list[Change]
    next_cursor: str  # pass back as `after`; unchanged when there is nothing new
    has_more: bool  # more changes are ready now: fetch again at once


def encode_cursor(event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{event_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raw = ""
    number = raw.removeprefix(_PREFIX)
    if not raw.startswith(_PREFIX) or not number.isdigit() or len(number) > 18:
        raise InvalidCursor("the cursor is not valid; start again without one, or after=latest")
    return int(number)


class _Unsettled(Exception):
    """Other transactions kept inserting timeline events while we looked."""


def changes(session: Session, principal: Principal, after: str | None, limit: int) -> ChangePage:
    """The changes after the cursor (None: from the beginning; "latest": from now)."""
    start = 0 if after in (None, LATEST) else decode_cursor(after)
    try:
        horizon = _horizon(session, principal)
    except _Unsettled:
        if after == LATEST:
            raise DatabaseUnavailable("changes are being written; try again") from None
        return ChangePage([], encode_cursor(start), False)  # nothing settled yet: poll again
    visible = case_filter(principal, Perm.CASE_LIST)
    capped = [CaseEvent.id <= horizon] if horizon is not None else []
    if after == LATEST:
        top = select(func.max(CaseEvent.id)).join(Case, Case.id == CaseEvent.case_id)
        latest = session.scalar(top.where(visible, *capped)) or 0
        return ChangePage([], encode_cursor(latest), False)
    stmt = (
        select(
            CaseEvent.id,
            CaseEvent.case_id,
            CaseEvent.event_type,
            CaseEvent.from_state,
            CaseEvent.to_state,
            CaseEvent.sequence,
            CaseEvent.occurred_at,
        )
        .join(Case, Case.id == CaseEvent.case_id)
        .where(visible, CaseEvent.id > start, *capped)
        .order_by(CaseEvent.id)
        .limit(limit + 1)
    )
    rows = session.execute(stmt).all()
    items = [
        Change(
            encode_cursor(r.id),
            r.case_id,
            r.event_type,
            r.from_state,
            r.to_state,
            r.sequence,
            r.occurred_at,
        )
        for r in rows[:limit]
    ]
    next_cursor = items[-1].cursor if items else encode_cursor(start)
    return ChangePage(items, next_cursor, len(rows) > limit)


def _horizon(session: Session, principal: Principal) -> int | None:
    """The largest event id the caller may be shown, or None for no limit: on SQLite,
    and for a caller within one partnership (see the module's docstring)."""
    if session.get_bind().dialect.name == "sqlite" or not _spans_partnerships(principal):
        return None
    for attempt in range(SETTLE_ATTEMPTS):
        # The maximum first, then no uncommitted insert: every id below it is final.
        top = session.scalar(select(func.max(CaseEvent.id))) or 0
        if not session.scalar(_INSERTS_IN_FLIGHT):
            return top
        if attempt + 1 < SETTLE_ATTEMPTS:
            time.sleep(SETTLE_PAUSE_S)
    raise _Unsettled


def _spans_partnerships(principal: Principal) -> bool:
    if principal.has_national_scope(Perm.CASE_LIST):
        return True
    own = principal.partnerships_with(Perm.CASE_LIST)
    assigned = principal.partnerships_with(Perm.CASE_LIST, scopes=("assigned",))
    return len(own | assigned) > 1
