"""Fan-out: one `delivery` per outbox message and active subscription of its
partnership whose topics include the message's topic (no topics: all).

Safe to run from several workers at once: messages are locked with SKIP LOCKED on
PostgreSQL (SQLite serialises writers), and a delivery is unique per
(message, subscription), inserted with ON CONFLICT DO NOTHING. A subscription sees
only its own partnership's messages, and only those fanned out after it was created.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workflow.storage.models import Delivery, OutboxMessage, Subscription

PENDING = "pending"


def fan_out(session: Session, now: datetime, limit: int = 100) -> tuple[int, int]:
    """Create the deliveries of up to `limit` messages not yet fanned out; the number
    of messages fanned out and of deliveries created."""
    stmt = (
        select(OutboxMessage)
        .where(OutboxMessage.fanned_out_at.is_(None))
        .order_by(OutboxMessage.created_at, OutboxMessage.id)
        .limit(limit)
    )
    is_pg = session.get_bind().dialect.name == "postgresql"
    if is_pg:
        stmt = stmt.with_for_update(skip_locked=True)
    messages = list(session.scalars(stmt))
    if not messages:
        return 0, 0
    partnerships = {m.partnership_id for m in messages}
    subs = list(
        session.scalars(
            select(Subscription).where(
                Subscription.partnership_id.in_(partnerships), Subscription.active.is_(True)
            )
        )
    )
    rows: list[dict[str, Any]] = []
    for message in messages:
        for sub in subs:
            if sub.partnership_id == message.partnership_id and (
                not sub.topics or message.topic in sub.topics
            ):
                rows.append(_delivery(message, sub, now))
        message.fanned_out_at = now
    created = 0
    if rows:
        table = cast(Table, Delivery.__table__)
        insert = (postgresql.insert if is_pg else sqlite.insert)(table)
        stmt_ins = insert.on_conflict_do_nothing(
            index_elements=["message_id", "subscription_id"]
        ).returning(table.c.id)
        for row in rows:
            created += session.execute(stmt_ins.values(**row)).first() is not None
    session.flush()
    return len(messages), created


def _delivery(message: OutboxMessage, sub: Subscription, now: datetime) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "message_id": message.id,
        "subscription_id": sub.id,
        "partnership_id": message.partnership_id,
        "status": PENDING,
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
    }
