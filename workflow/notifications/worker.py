"""The delivery worker: fan out, claim due deliveries under a lease, deliver outside
any transaction, record the outcome.

Claiming is one short write transaction: PostgreSQL locks the chosen rows with
`FOR UPDATE SKIP LOCKED` (workers never wait on, or take, each other's rows);
SQLite's `BEGIN IMMEDIATE` (Database.write) serialises claimers. A claimed
delivery is `in_flight` until `lease_until`; the attempt is counted at claim time.
Each outcome is committed as soon as its delivery returns, so a worker killed
mid-batch re-sends nothing it had finished. Any error of one delivery, foreseen or
not, is that delivery's failure: the pass goes on with the others. A worker killed
mid-delivery leaves the lease to expire, then another worker claims the delivery
again (at-least-once; after the last attempt it is dead instead), and the payload's
`id` (the same on every try) lets the receiver drop a repeat.
Time is an input (`now`); nothing here sleeps.
"""

from __future__ import annotations

import logging
import traceback
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from workflow.notifications.channels import Channel, DeliveryFailed, Outgoing
from workflow.notifications.config import NotifyConfig
from workflow.notifications.fanout import fan_out
from workflow.notifications.recipients import role_addresses
from workflow.notifications.subscriptions import ROLE_MEMBERS
from workflow.storage.database import Database
from workflow.storage.models import Delivery, OutboxMessage, Subscription

log = logging.getLogger(__name__)

IN_FLIGHT, DELIVERED, RETRYING, DEAD = "in_flight", "delivered", "retrying", "dead"
STATUSES = ("pending", IN_FLIGHT, DELIVERED, RETRYING, DEAD)
LEASE_EXPIRED = "lease expired on the last attempt (the worker stopped mid-delivery)"


@dataclass
class RunReport:
    """Counts only: what a log line may say."""

    messages: int = 0  # messages fanned out
    fanned_out: int = 0  # deliveries they created
    claimed: int = 0
    delivered: int = 0
    retrying: int = 0
    dead: int = 0
    lost: int = 0  # leases taken over by another worker before sending
    errors: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Claim:
    item: Outgoing
    channel: str
    token: str
    active: bool
    lease_until: datetime


def due_clause(now: datetime) -> object:
    return or_(
        and_(Delivery.status.in_(("pending", RETRYING)), Delivery.next_attempt_at <= now),
        and_(Delivery.status == IN_FLIGHT, Delivery.lease_until < now),
    )


@dataclass(frozen=True)
class Batch:
    claims: list[Claim]
    abandoned: int  # in flight past their lease after the last attempt: now dead


def claim(session: Session, now: datetime, config: NotifyConfig) -> list[Claim]:
    """Take up to `batch_size` due deliveries under a lease (in the caller's transaction)."""
    return claim_batch(session, now, config).claims


def claim_batch(session: Session, now: datetime, config: NotifyConfig) -> Batch:
    """`claim`, and give up on deliveries whose worker died during their last attempt:
    each such death counted an attempt, so a message that kills its worker every
    time ends dead after `max_attempts` like any other failure."""
    stmt = (
        select(Delivery)
        .where(due_clause(now))  # type: ignore[arg-type]
        .order_by(Delivery.next_attempt_at, Delivery.created_at, Delivery.id)
        .limit(config.batch_size)
    )
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    deliveries = list(session.scalars(stmt))
    exhausted = [
        d for d in deliveries if d.status == IN_FLIGHT and d.attempts >= config.max_attempts
    ]
    for d in exhausted:
        d.status, d.lease_until, d.claim_token, d.next_attempt_at = DEAD, None, None, now
        d.last_error = LEASE_EXPIRED
    deliveries = [d for d in deliveries if d not in exhausted]
    if not deliveries:
        session.flush()
        return Batch([], len(exhausted))
    messages = {
        m.id: m
        for m in session.scalars(
            select(OutboxMessage).where(OutboxMessage.id.in_({d.message_id for d in deliveries}))
        )
    }
    subs = {
        s.id: s
        for s in session.scalars(
            select(Subscription).where(Subscription.id.in_({d.subscription_id for d in deliveries}))
        )
    }
    lease_until = now + timedelta(seconds=config.lease_seconds)
    claims = []
    for d in deliveries:
        token = str(uuid.uuid4())
        d.status, d.lease_until, d.claim_token = IN_FLIGHT, lease_until, token
        d.attempts += 1
        message, sub = messages[d.message_id], subs[d.subscription_id]
        target = sub.target
        if sub.channel == "email" and sub.target == ROLE_MEMBERS and sub.role is not None:
            target = ", ".join(role_addresses(session, sub.partnership_id, sub.role))
        item = Outgoing(
            delivery_id=d.id,
            message_id=message.id,
            topic=message.topic,
            payload=message.payload,
            target=target,
            secret=sub.secret,
            attempt=d.attempts,
        )
        claims.append(Claim(item, sub.channel, token, sub.active, lease_until))
    session.flush()
    return Batch(claims, len(exhausted))


def record_success(session: Session, delivery_id: uuid.UUID, now: datetime) -> None:
    """Delivered (whoever holds the lease now: the message did arrive)."""
    session.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status != DELIVERED)
        .values(
            status=DELIVERED,
            delivered_at=now,
            lease_until=None,
            claim_token=None,
            last_error=None,
        )
    )


def record_failure(
    session: Session, claimed: Claim, reason: str, now: datetime, config: NotifyConfig
) -> str:
    """Retry later with exponential backoff, or dead after the last attempt. A worker
    that lost its lease to another changes nothing."""
    attempts = claimed.item.attempt
    give_up = attempts >= config.max_attempts or not claimed.active
    status = DEAD if give_up else RETRYING
    next_at = now + timedelta(seconds=config.backoff_seconds(attempts))
    session.execute(
        update(Delivery)
        .where(Delivery.id == claimed.item.delivery_id, Delivery.claim_token == claimed.token)
        .values(
            status=status,
            next_attempt_at=now if give_up else next_at,
            lease_until=None,
            claim_token=None,
            last_error=reason,
        )
    )
    return status


def renew(session: Session, claimed: Claim, until: datetime) -> bool:
    """Extend our lease; False if another worker has taken the delivery over."""
    renewed = session.execute(
        update(Delivery)
        .where(Delivery.id == claimed.item.delivery_id, Delivery.claim_token == claimed.token)
        .values(lease_until=until)
        .returning(Delivery.id)
    ).first()
    return renewed is not None


def still_ours(database: Database, claimed: Claim, at: datetime, config: NotifyConfig) -> bool:
    """Before sending: renew a lease that is half gone (a slow batch must not let
    another worker claim what this one is about to send)."""
    half = timedelta(seconds=config.lease_seconds / 2)
    if at < claimed.lease_until - half:
        return True
    until = at + timedelta(seconds=config.lease_seconds)
    return database.write(partial(renew, claimed=claimed, until=until))


def run_once(
    database: Database,
    channels: Mapping[str, Channel],
    config: NotifyConfig,
    now: datetime,
    clock: Callable[[], datetime] | None = None,
) -> RunReport:
    """One pass: fan out new messages, then claim and deliver one batch.

    `now` is when the pass starts; `clock` (default: always `now`) tells the time
    later in the pass, for lease renewal, signatures and outcomes."""
    tick = clock or (lambda: now)
    report = RunReport()
    report.messages, report.fanned_out = database.write(
        lambda s: fan_out(s, now, config.batch_size)
    )
    batch = database.write(lambda s: claim_batch(s, now, config))
    report.claimed = len(batch.claims)
    if batch.abandoned:
        report.dead += batch.abandoned
        report.errors[LEASE_EXPIRED] = batch.abandoned
    for claimed in batch.claims:
        if not still_ours(database, claimed, tick(), config):
            report.lost += 1
            continue
        reason = _send(channels, claimed, tick())
        if reason is None:
            database.write(
                partial(record_success, delivery_id=claimed.item.delivery_id, now=tick())
            )
            report.delivered += 1
            continue
        status = database.write(
            partial(record_failure, claimed=claimed, reason=reason, now=tick(), config=config)
        )
        if status == DEAD:
            report.dead += 1
        else:
            report.retrying += 1
        report.errors[reason] = report.errors.get(reason, 0) + 1
    return report


def _send(channels: Mapping[str, Channel], claimed: Claim, now: datetime) -> str | None:
    """Send one delivery: None if delivered, else the failure's short reason.

    Whatever goes wrong with one delivery is that delivery's failure (retried, then
    dead), never the worker's: an exception nobody foresaw (urllib raises ValueError
    and http.client.InvalidURL on some URLs) would otherwise stop the pass and leave
    every partnership's deliveries in flight. Its text may quote the URL (a query
    string can hold a receiver's token), so only its type and where it was raised are
    stored and logged."""
    channel = channels.get(claimed.channel)
    try:
        if not claimed.active:
            raise DeliveryFailed("subscription deactivated")
        if channel is None:
            raise DeliveryFailed(f"no {claimed.channel} channel configured")
        channel.send(claimed.item, now)
    except DeliveryFailed as exc:
        return exc.reason
    except Exception as exc:  # any: see above
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        reason = f"unexpected error ({type(exc).__name__})"
        log.warning("delivery %s: %s at %s", claimed.item.delivery_id, reason, where)
        return reason
    return None


def default_channels(config: NotifyConfig) -> dict[str, Channel]:
    """The channels a worker uses: webhooks and SMTP e-mail, as configured."""
    from workflow.notifications.egress import EgressPolicy
    from workflow.notifications.email import EmailChannel
    from workflow.notifications.webhook import WebhookChannel

    policy = EgressPolicy(config.webhook_allowed_networks)
    return {
        "webhook": WebhookChannel(config.webhook_timeout_seconds, policy),
        "email": EmailChannel(config.smtp),
    }
