"""A short-lived, bounded cache of authenticated API tokens (token hash -> Principal).

Authenticating a token costs three queries and a worker-thread hop; a dashboard
polling every few seconds would pay them on every 304. The cache keeps the
Principal of a valid token for `ttl_seconds` (monotonic clock), keyed by the
token's SHA-256 (never the token itself), for at most `max_entries` tokens (least
recently used evicted first). Invalid tokens are never cached.

What can be stale, and for how long:
- A change committed **in this process** to what a principal is made of (a token,
  a user, a membership, a case assignment, through the ORM) invalidates every entry
  as soon as it commits (`generation`, bumped by a Session `after_commit` hook).
- A change made by **another process** (the CLI, another server worker, SQL by
  hand) takes effect within `ttl_seconds` at most: revoking a token, disabling a
  user or removing a role can lag that long. `ttl_seconds=0` turns the cache off.
- A token's own expiry is checked on every hit against the request's clock, so an
  expired token is refused on time.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import chain
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from workflow.access.accounts import hash_token
from workflow.access.principal import Principal
from workflow.storage.models import ApiToken, CaseAssignment, Membership, User

AUTH_MODELS = (ApiToken, User, Membership, CaseAssignment)
_generation = 0
_generation_lock = threading.Lock()


def generation() -> int:
    """Bumped after every commit in this process that changed authentication data."""
    return _generation


def invalidate_all() -> None:
    global _generation
    with _generation_lock:
        _generation += 1


@event.listens_for(Session, "after_flush")
def _note_auth_changes(session: Session, _ctx: Any) -> None:
    # In after_flush the session still lists what this flush wrote.
    if any(
        isinstance(obj, AUTH_MODELS) for obj in chain(session.new, session.dirty, session.deleted)
    ):
        session.info["auth_changed"] = True


@event.listens_for(Session, "after_commit")
def _invalidate_on_commit(session: Session) -> None:
    if session.info.pop("auth_changed", False):
        invalidate_all()


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop("auth_changed", None)


@dataclass(frozen=True)
class _Entry:
    principal: Principal
    expires_at: datetime | None  # the token's own expiry
    stored_at: float  # monotonic seconds
    generation: int  # `generation()` read *before* the lookup that produced it


class TokenCache:
    """Thread-safe; `clock` is injectable for tests (monotonic seconds)."""

    def __init__(
        self,
        ttl_seconds: float = 10.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def enabled(self) -> bool:
        return self.ttl > 0

    def __len__(self) -> int:
        return len(self._entries)

    @staticmethod
    def key(raw_token: str) -> str:
        return hash_token(raw_token)

    def get(self, key: str, now: datetime) -> Principal | None:
        """The cached Principal, if fresh, of this generation and not expired at `now`."""
        if not self.enabled:
            return None
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return None
            if (
                entry.generation != _generation
                or self.clock() - entry.stored_at >= self.ttl
                or (entry.expires_at is not None and entry.expires_at <= now)
            ):
                del self._entries[key]
                return None
            self._entries.move_to_end(key)
            return entry.principal

    def put(
        self, key: str, principal: Principal, expires_at: datetime | None, generation: int
    ) -> None:
        """Store a Principal looked up after `generation` was read (an entry whose
        generation has moved on since is never served)."""
        if not self.enabled or generation != _generation:
            return
        with self._lock:
            self._entries[key] = _Entry(principal, expires_at, self.clock(), generation)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)
