"""Delivery through real receivers: a signed webhook, SMTP, the retry schedule and
the dead letter, and isolation between partnerships."""

from __future__ import annotations

import threading
from datetime import timedelta
from email import message_from_bytes

from tests.notifications.conftest import (
    admin_ctx,
    assert_no_personal_data,
    deliveries,
    messages,
    smtp_config,
    subscribe,
)
from tests.notifications.receivers import SmtpSink, WebhookReceiver
from tests.support.factories import NOW, make_case
from tests.support.world import World
from workflow.core.rulebook import RulebookRegistry
from workflow.notifications import webhook as signing
from workflow.notifications.config import NotifyConfig
from workflow.notifications.fanout import fan_out
from workflow.notifications.worker import claim, default_channels, run_once, still_ours
from workflow.storage.database import Database

LATER = NOW + timedelta(minutes=1)


def test_a_signed_webhook_arrives_once_per_message(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    notify_config: NotifyConfig,
) -> None:
    made = subscribe(database, admin_ctx(world, rulebooks), "alpha", "webhook", webhook.url)
    assert made.secret
    assert made.secret.startswith("whsec_")
    make_case(database, rulebooks, world.principals[("alpha", "notifier")], "rapid_review")
    channels = default_channels(notify_config)
    report = run_once(database, channels, notify_config, LATER)
    assert (report.fanned_out, report.claimed, report.delivered) == (2, 2, 2)
    arrived = sorted(webhook.received, key=lambda r: r.json["case"]["version"])
    assert [r.json["to_state"] for r in arrived] == ["notification_due", "rapid_review"]
    for got in webhook.received:
        timestamp = got.headers["X-Casereview-Timestamp"]
        assert timestamp == str(int(LATER.timestamp()))
        assert signing.verify(
            made.secret, timestamp, got.body, got.headers["X-Casereview-Signature"]
        )
        assert not signing.verify(
            "another secret", timestamp, got.body, got.headers["X-Casereview-Signature"]
        )
        assert got.headers["Idempotency-Key"] == got.json["id"]
        assert_no_personal_data(got.body.decode())
    assert {str(m.id) for m in messages(database)} == {r.json["id"] for r in webhook.received}
    assert [d.status for d in deliveries(database)] == ["delivered", "delivered"]
    again = run_once(database, channels, notify_config, LATER + timedelta(hours=1))
    assert (again.claimed, len(webhook.received)) == (0, 2)  # nothing twice


def test_failures_back_off_exponentially_then_the_delivery_is_dead(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    notify_config: NotifyConfig,
) -> None:
    subscribe(database, admin_ctx(world, rulebooks), "alpha", "webhook", webhook.url)
    make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    webhook.statuses = [500, 503, 500]
    channels = default_channels(notify_config)  # 3 attempts, base 10 s

    def state() -> tuple[str, int, object, str | None]:
        (d,) = deliveries(database)
        return d.status, d.attempts, d.next_attempt_at, d.last_error

    assert run_once(database, channels, notify_config, NOW).retrying == 1
    assert state() == ("retrying", 1, NOW + timedelta(seconds=10), "HTTP 500")
    assert run_once(database, channels, notify_config, NOW + timedelta(seconds=9)).claimed == 0
    t2 = NOW + timedelta(seconds=10)
    assert run_once(database, channels, notify_config, t2).retrying == 1
    assert state() == ("retrying", 2, t2 + timedelta(seconds=20), "HTTP 503")
    t3 = t2 + timedelta(seconds=20)
    assert run_once(database, channels, notify_config, t3).dead == 1
    assert state()[:2] == ("dead", 3)
    assert run_once(database, channels, notify_config, t3 + timedelta(days=9)).claimed == 0
    assert len(webhook.received) == 3
    assert len({r.json["id"] for r in webhook.received}) == 1  # the same idempotency id


def test_backoff_is_capped() -> None:
    config = NotifyConfig(backoff_base_seconds=30, backoff_max_seconds=600)
    assert [config.backoff_seconds(n) for n in range(1, 7)] == [30, 60, 120, 240, 480, 600]


def test_only_matching_subscriptions_of_the_partnership_get_a_message(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    notify_config: NotifyConfig,
) -> None:
    beta = subscribe(database, admin_ctx(world, rulebooks, "beta"), "beta", "webhook", webhook.url)
    ctx = admin_ctx(world, rulebooks)
    subscribe(database, ctx, "alpha", "webhook", webhook.url, ("deadline.missed",))  # not this
    make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    report = run_once(database, default_channels(notify_config), notify_config, LATER)
    assert (report.messages, report.fanned_out, report.claimed) == (1, 0, 0)
    assert deliveries(database, beta.subscription.id) == []
    assert webhook.received == []


def test_email_reaches_an_smtp_server(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    smtp: tuple[SmtpSink, int],
    notify_config: NotifyConfig,
) -> None:
    sink, port = smtp
    config = smtp_config(port)
    subscribe(database, admin_ctx(world, rulebooks), "alpha", "email", "sub-group@example.org")
    case_id = make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    report = run_once(database, default_channels(config), config, LATER)
    assert report.delivered == 1, report
    (envelope,) = sink.messages
    assert envelope.rcpt_tos == ["sub-group@example.org"]
    mail = message_from_bytes(envelope.content)
    (message,) = messages(database)
    assert mail["Subject"] == f"Case {str(case_id)[:8]} moved to notification_due"
    assert mail["Message-ID"] == f"<{message.id}@casereview>"
    assert str(message.id) in mail.get_payload()
    assert_no_personal_data(envelope.content.decode())


def test_concurrent_workers_never_claim_the_same_delivery(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    notify_config: NotifyConfig,
) -> None:
    subscribe(database, admin_ctx(world, rulebooks), "alpha", "webhook", "https://example.org/h")
    make_case(database, rulebooks, world.officer, "decision_due")
    database.write(lambda s: fan_out(s, LATER))
    assert len(deliveries(database)) == 3
    config = NotifyConfig(batch_size=2)
    barrier = threading.Barrier(3)
    claimed: list[list[str]] = []

    def work() -> None:
        barrier.wait(10)
        got = database.write(lambda s: claim(s, LATER, config))
        claimed.append([str(c.item.delivery_id) for c in got])

    threads = [threading.Thread(target=work) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    everything = [d for batch in claimed for d in batch]
    assert sorted(everything) == sorted(str(d.id) for d in deliveries(database))  # once each
    assert {d.status for d in deliveries(database)} == {"in_flight"}


def test_a_worker_renews_its_lease_and_never_sends_what_another_took_over(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    notify_config: NotifyConfig,
) -> None:
    subscribe(database, admin_ctx(world, rulebooks), "alpha", "webhook", "https://example.org/h")
    make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    database.write(lambda s: fan_out(s, NOW))
    (slow,) = database.write(lambda s: claim(s, NOW, notify_config))  # lease 30 s
    expired = NOW + timedelta(seconds=31)
    (other,) = database.write(lambda s: claim(s, expired, notify_config))
    assert other.item.delivery_id == slow.item.delivery_id
    assert not still_ours(database, slow, expired, notify_config)
    assert still_ours(database, other, expired + timedelta(seconds=1), notify_config)
    late = expired + timedelta(seconds=20)  # over half the lease gone: renewed
    assert still_ours(database, other, late, notify_config)
    assert deliveries(database)[0].lease_until == late + timedelta(seconds=30)
