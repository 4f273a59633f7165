"""Idempotency keys: a replay of (caller, key) returns the first success unchanged.

An HTTP concern, so it lives in api/: the gateway (api/gateway.py) stores the
rendered answer in the same transaction as the change it answers.

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

from sqlalchemy import ForeignKey, Integer, String, Text, delete
from sqlalchemy.orm import Mapped, Session, mapped_column

from workflow.core.errors import IdempotencyKeyReused
from workflow.storage.models import Base, JSONType, UTCDateTime

IDEMPOTENCY_TTL = timedelta(hours=24)


class IdempotencyRecord(Base):
    """The first successful response to (principal, Idempotency-Key), for replays."""

    __tablename__ = "idempotency_record"

    principal_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    response_body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    response_etag: Mapped[str | None] = mapped_column(String(32))
    location: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


@dataclass(frozen=True)
class IdempotencyRequest:
    key: str
    request_hash: str

    @classmethod
    def of(cls, key: str, method: str, path: str, body: bytes) -> IdempotencyRequest:
        digest = hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body)
        return cls(key, digest.hexdigest())


Stored = tuple[int, dict[str, Any], str | None, str | None]  # status, body, etag, location


def lookup(
    session: Session, principal_id: uuid.UUID, request: IdempotencyRequest, now: datetime
) -> Stored | None:
    """The stored answer for this key, None if there is none (or it expired);
    IdempotencyKeyReused if the key was used for a different request."""
    record = session.get(IdempotencyRecord, (principal_id, request.key))
    if record is None or record.expires_at <= now:
        return None
    if record.request_hash != request.request_hash:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was already used for a different request; use a new key"
        )
    return record.status_code, record.response_body, record.response_etag, record.location


def store(
    session: Session,
    principal_id: uuid.UUID,
    request: IdempotencyRequest,
    status_code: int,
    body: dict[str, Any],
    etag: str | None,
    location: str | None,
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
            status_code=status_code,
            response_body=body,
            response_etag=etag,
            location=location,
            created_at=now,
            expires_at=now + IDEMPOTENCY_TTL,
        )
    )
    session.flush()
