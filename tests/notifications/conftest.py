"""Fixtures of the notification tests: real receivers, a short retry schedule and
helpers that create subscriptions and read the outbox and deliveries."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.notifications.receivers import SmtpSink, WebhookReceiver, serve_smtp, serve_webhook
from tests.support.factories import NOW
from tests.support.world import World
from workflow.context import Context
from workflow.core.rulebook import RulebookRegistry
from workflow.notifications import subscriptions
from workflow.notifications.config import NotifyConfig, SmtpConfig
from workflow.storage.database import Database
from workflow.storage.models import Delivery, OutboxMessage

# Words of the factory incident (tests/support/factories.py) that are personal data.
LOOPBACK = ("127.0.0.0/8", "::1/128")  # the tests' receivers; refused by default (egress.py)
PERSONAL = ("Child A", "Anytown", "Family home", "bruising", "Non-mobile", "female")


@pytest.fixture
def webhook() -> Iterator[WebhookReceiver]:
    yield from serve_webhook(WebhookReceiver())


@pytest.fixture
def smtp() -> Iterator[tuple[SmtpSink, int]]:
    yield from serve_smtp()


@pytest.fixture
def notify_config() -> NotifyConfig:
    return NotifyConfig(
        webhook_timeout_seconds=5,
        webhook_allowed_networks=LOOPBACK,
        max_attempts=3,
        backoff_base_seconds=10,
        backoff_max_seconds=3600,
        lease_seconds=30,
        reminder_working_days=5,
    )


def smtp_config(port: int) -> NotifyConfig:
    """The worker's settings for the test SMTP sink on `port`."""
    return NotifyConfig(smtp=SmtpConfig(host="127.0.0.1", port=port, sender="cr@example.org"))


def admin_ctx(world: World, rulebooks: RulebookRegistry, partnership: str = "alpha") -> Context:
    return Context(rulebooks, world.principals[(partnership, "partnership_admin")], NOW)


def subscribe(
    database: Database,
    ctx: Context,
    partnership: str,
    channel: str,
    target: str,
    topics: tuple[str, ...] = (),
) -> subscriptions.Created:
    new = subscriptions.NewSubscription(partnership, channel, target, topics)
    return database.write(lambda s: subscriptions.create(s, ctx, new))


def messages(database: Database, topic: str | None = None) -> list[OutboxMessage]:
    def run(s: Session) -> list[OutboxMessage]:
        stmt = select(OutboxMessage).order_by(OutboxMessage.created_at, OutboxMessage.dedup_key)
        if topic:
            stmt = stmt.where(OutboxMessage.topic == topic)
        return list(s.scalars(stmt))

    return database.read(run)


def deliveries(database: Database, subscription_id: uuid.UUID | None = None) -> list[Delivery]:
    def run(s: Session) -> list[Delivery]:
        stmt = select(Delivery).order_by(Delivery.created_at, Delivery.id)
        if subscription_id:
            stmt = stmt.where(Delivery.subscription_id == subscription_id)
        return list(s.scalars(stmt))

    return database.read(run)


def assert_no_personal_data(payload: Any) -> None:
    text = str(payload)
    for word in PERSONAL:
        assert word.lower() not in text.lower(), f"{word!r} in {text}"


__all__ = ["SmtpConfig"]
