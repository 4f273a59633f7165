"""Deliveries as the API shows them: listed by status (e.g. the dead letters),
paginated newest first, and a dead delivery put back in the queue.

Same access rule as subscriptions: `notifications.read` to see, `.manage` to retry,
in the delivery's partnership; any other delivery is not found."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from workflow.access.permissions import Perm, refusal
from workflow.context import Context
from workflow.core.errors import CaseNotFound, Conflict, Forbidden, InvalidFacts
from workflow.notifications.subscriptions import audit_change, partnerships_where
from workflow.notifications.worker import DEAD, STATUSES
from workflow.storage.models import Delivery, OutboxMessage
from workflow.storage.repository import decode_cursor, encode_cursor


class DeliveryNotFound(CaseNotFound):
    """No such delivery, or one of a partnership the caller may not read: 404."""


@dataclass(frozen=True)
class DeliveryView:
    delivery: Delivery
    topic: str
    case_id: uuid.UUID | None


@dataclass(frozen=True)
class DeliveryPage:
    items: list[DeliveryView]
    next_cursor: str | None


def list_deliveries(
    session: Session,
    ctx: Context,
    *,
    status: str | None,
    subscription_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> DeliveryPage:
    if status is not None and status not in STATUSES:
        raise InvalidFacts(f"status must be one of {', '.join(STATUSES)}", "status")
    readable = list(partnerships_where(ctx, Perm.NOTIFICATIONS_READ))
    stmt = (
        select(Delivery, OutboxMessage.topic, OutboxMessage.case_id)
        .join(OutboxMessage, OutboxMessage.id == Delivery.message_id)
        .where(Delivery.partnership_id.in_(readable))
        .order_by(Delivery.created_at.desc(), Delivery.id.desc())
        .limit(limit + 1)
    )
    if status is not None:
        stmt = stmt.where(Delivery.status == status)
    if subscription_id is not None:
        stmt = stmt.where(Delivery.subscription_id == subscription_id)
    if cursor:
        at, last = decode_cursor(cursor)
        stmt = stmt.where(
            or_(Delivery.created_at < at, and_(Delivery.created_at == at, Delivery.id < last))
        )
    rows = session.execute(stmt).all()
    items = [DeliveryView(d, topic, case_id) for d, topic, case_id in rows[:limit]]
    more = len(rows) > limit
    last_item = items[-1].delivery if items else None
    return DeliveryPage(
        items,
        encode_cursor(last_item.created_at, last_item.id) if more and last_item else None,
    )


def _view(session: Session, delivery: Delivery) -> DeliveryView:
    message = session.get(OutboxMessage, delivery.message_id)
    assert message is not None
    return DeliveryView(delivery, message.topic, message.case_id)


def get_delivery(session: Session, ctx: Context, delivery_id: uuid.UUID) -> DeliveryView:
    delivery = session.get(Delivery, delivery_id)
    if delivery is None or delivery.partnership_id not in partnerships_where(
        ctx, Perm.NOTIFICATIONS_READ
    ):
        raise DeliveryNotFound(f"no delivery {delivery_id}")
    return _view(session, delivery)


def retry(session: Session, ctx: Context, delivery_id: uuid.UUID) -> DeliveryView:
    """dead -> pending, due now, with a fresh set of attempts. Anything else: Conflict."""
    view = get_delivery(session, ctx, delivery_id)
    delivery = view.delivery
    managed = partnerships_where(ctx, Perm.NOTIFICATIONS_MANAGE)
    if delivery.partnership_id not in managed:
        raise Forbidden(refusal(Perm.NOTIFICATIONS_MANAGE))
    if delivery.status != DEAD:
        raise Conflict(f"only a dead delivery can be retried; this one is {delivery.status}")
    delivery.status = "pending"
    delivery.attempts = 0
    delivery.next_attempt_at = ctx.now
    delivery.lease_until = None
    session.flush()
    audit_change(
        session,
        ctx,
        managed[delivery.partnership_id],
        "retry_delivery",
        {"delivery_id": str(delivery.id)},
    )
    return view
