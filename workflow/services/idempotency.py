"""Idempotency keys: a replay of (caller, key) returns the first success unchanged.

A key is scoped to the authenticated principal and kept for IDEMPOTENCY_TTL
(24 hours). The same key with a different request is refused. Only successful
outcomes are stored: a refused request changed nothing and may simply be retried.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from workflow.errors import IdempotencyKeyReused
from workflow.models import IdempotencyRecord

IDEMPOTENCY_TTL = timedelta(hours=24)


@dataclass(frozen=True)
class Outcome:
    """A successful command's answer, as it will be sent (and replayed)."""

    status_code: int
    body: dict[str, Any]
    etag: str | None = None
    location: str | None = None


@dataclass(frozen=True)
class IdempotencyRequest:
    key: str
    request_hash: str

    @classmethod
    def of(cls, key: str, method: str, path: str, body: bytes) -> IdempotencyRequest:
        digest = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body)
        return cls(key, digest.hexdigest())


def lookup(
    session: Session, principal_id: uuid.UUID, request: IdempotencyRequest, now: datetime
) -> Outcome | None:
    """The stored outcome for this key, None if there is none (or it expired);
    IdempotencyKeyReused if the key was used for a different request."""
    record = session.get(IdempotencyRecord, (principal_id, request.key))
    if record is None or record.expires_at <= now:
        return None
    if record.request_hash != request.request_hash:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used for a different request; use a new key"
        )
    return Outcome(record.status_code, record.response_body, record.response_etag, record.location)


def store(
    session: Session,
    principal_id: uuid.UUID,
    request: IdempotencyRequest,
    outcome: Outcome,
    now: datetime,
) -> None:
    session.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.principal_id == principal_id,
            IdempotencyRecord.key == request.key,
            IdempotencyRecord.expires_at <= now,
        )
    )
    session.add(
        IdempotencyRecord(
            principal_id=principal_id,
            key=request.key,
            request_hash=request.request_hash,
            status_code=outcome.status_code,
            response_body=outcome.body,
            response_etag=outcome.etag,
            location=outcome.location,
            created_at=now,
            expires_at=now + IDEMPOTENCY_TTL,
        )
    )
    session.flush()
