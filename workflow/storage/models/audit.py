"""The audit trail: append-only, hash-chained per partnership."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.storage.models.base import Base, BigIntId, JSONType, UTCDateTime


class AuditRecord(Base):
    """Who did or read what, when, from where, with what outcome. Never personal data.

    `hash` = SHA-256 over the canonical serialisation of the record including
    `prev_hash`, the hash of the previous record of the same chain."""

    __tablename__ = "audit_record"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(64))  # partnership code, or "system"
    seq: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[uuid.UUID | None] = mapped_column()
    client: Mapped[str] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (UniqueConstraint("chain", "seq"),)


class AuditChainHead(Base):
    """The last record of each chain: the row appenders lock to serialise a chain."""

    __tablename__ = "audit_chain_head"

    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))
