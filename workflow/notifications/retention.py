"""Retention of the outbox: finished notifications older than a cut-off are deleted.

A message is finished when it has been fanned out and every delivery of it was
delivered (a message no subscription wanted has none). Kept whatever their age:
- a message with a delivery still pending, in flight, retrying or dead (a dead
  letter stays visible and retryable through the API until someone acts on it);
- a deadline reminder whose deadline is still pending with the same due date: that
  row is how the sweep knows the reminder was sent (its ON CONFLICT key), so deleting
  it would send the reminder again at the next sweep.

The messages carry no personal data; this is about the tables' growth, not about
the retention of case records (which is the partnership's records policy). Runs in
batches, each its own transaction (`Database.write`); idempotent, safe to repeat and
to run from several hosts at once (a batch deletes by id whatever is still there).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import and_, delete, exists, select
from sqlalchemy.orm import Session

from workflow.notifications.outbox import DEADLINE_APPROACHING, DEADLINE_MISSED
from workflow.notifications.worker import DELIVERED
from workflow.storage.database import Database
from workflow.storage.models import CaseDeadline, Delivery, OutboxMessage


def purgeable(session: Session, before: datetime, limit: int) -> list[uuid.UUID]:
    """Ids of up to `limit` finished messages created before `before`, oldest first."""
    unfinished = exists().where(
        Delivery.message_id == OutboxMessage.id, Delivery.status != DELIVERED
    )
    reminder_still_due = exists().where(
        and_(
            CaseDeadline.case_id == OutboxMessage.case_id,
            CaseDeadline.name == OutboxMessage.deadline_name,
            CaseDeadline.due_date == OutboxMessage.due_date,
            CaseDeadline.state == "pending",
        )
    )
    reminder = OutboxMessage.topic.in_((DEADLINE_APPROACHING, DEADLINE_MISSED))
    return list(
        session.scalars(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.created_at < before,
                OutboxMessage.fanned_out_at.is_not(None),
                ~unfinished,
                ~and_(reminder, reminder_still_due),
            )
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
            .limit(limit)
        )
    )


def delete_messages(session: Session, ids: list[uuid.UUID]) -> tuple[int, int]:
    """Delete the messages and their deliveries; returns (messages, deliveries)."""
    connection = session.connection()  # Core: a CursorResult with its rowcount
    deliveries = connection.execute(
        delete(Delivery).where(Delivery.message_id.in_(ids), Delivery.status == DELIVERED)
    ).rowcount
    messages = connection.execute(
        delete(OutboxMessage).where(
            OutboxMessage.id.in_(ids),
            ~exists().where(Delivery.message_id == OutboxMessage.id),
        )
    ).rowcount
    return messages, deliveries


def purge(
    database: Database,
    *,
    before: datetime,
    batch: int = 1000,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Delete every finished message created before `before`, `batch` per transaction;
    returns (messages, deliveries) deleted. `progress(messages, deliveries)` after each
    batch."""
    total_messages = total_deliveries = 0
    while True:

        def one_batch(session: Session) -> tuple[int, int, int]:
            ids = purgeable(session, before, batch)
            return (len(ids), *delete_messages(session, ids)) if ids else (0, 0, 0)

        found, messages, deliveries = database.write(one_batch)
        total_messages += messages
        total_deliveries += deliveries
        if progress is not None and found:
            progress(total_messages, total_deliveries)
        if found < batch or messages == 0:
            return total_messages, total_deliveries
