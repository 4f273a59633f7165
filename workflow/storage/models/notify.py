"""Durable notifications: the transactional outbox, subscriptions and deliveries.

`outbox_message` rows are written in the same transaction as the change they
announce (or by the idempotent deadline sweep) and never carry personal data;
`delivery` is one message for one subscription, the unit the worker claims,
retries and dead-letters.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.storage.models.base import Base, JSONType, UTCDateTime


class OutboxMessage(Base):
    """Something people must be told. `id` is the idempotency id every delivery of it
    carries; `dedup_key` makes enqueueing the same fact twice a no-op."""

    __tablename__ = "outbox_message"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    partnership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partnership.id"))
    topic: Mapped[str] = mapped_column(String(64))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case.id"))
    deadline_name: Mapped[str | None] = mapped_column(String(64))
    due_date: Mapped[date | None] = mapped_column(Date)
    dedup_key: Mapped[str] = mapped_column(String(200), unique=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fanned_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_outbox_message_fanned_out_at_created_at", "fanned_out_at", "created_at"),
        Index("ix_outbox_message_case_id_topic", "case_id", "topic"),
    )


class Subscription(Base):
    """Where a partnership's notifications go: a webhook URL (signed with `secret`)
    or an e-mail address. `topics` empty means every topic."""

    __tablename__ = "subscription"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    partnership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partnership.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(32))
    channel: Mapped[str] = mapped_column(String(16))  # webhook | email
    target: Mapped[str] = mapped_column(String(2000))
    secret: Mapped[str | None] = mapped_column(String(128))
    topics: Mapped[list[str]] = mapped_column(JSONType, default=list)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """One message to one subscription.

    status: pending -> in_flight (claimed, `lease_until` set) -> delivered, or
    retrying (at `next_attempt_at`) ... -> dead after the last attempt. An
    in_flight row whose lease has expired is claimable again (its worker died)."""

    __tablename__ = "delivery"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("outbox_message.id"))
    subscription_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("subscription.id"), index=True)
    partnership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partnership.id"))
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claim_token: Mapped[str | None] = mapped_column(String(36))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("message_id", "subscription_id"),
        Index("ix_delivery_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_delivery_partnership_id_created_at", "partnership_id", "created_at"),
    )
