"""One delivery's error is that delivery's failure, never the worker's: a malformed
subscription row (an old one, from before targets were parsed) or any exception of a
channel is retried with backoff and ends dead, while every other partnership's
deliveries go out; deliveries left in flight by a dead worker are claimed again."""

from __future__ import annotations

import logging
import signal
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.notifications.conftest import admin_ctx, deliveries, subscribe
from tests.notifications.receivers import WebhookReceiver
from tests.notifications.test_worker_kill import _until, _worker
from tests.support.factories import NOW, make_case
from tests.support.world import World
from workflow.core.rulebook import RulebookRegistry
from workflow.notifications.channels import Channel, Outgoing
from workflow.notifications.config import NotifyConfig
from workflow.notifications.fanout import fan_out
from workflow.notifications.worker import claim, default_channels, run_once
from workflow.storage.database import Database
from workflow.storage.models import Partnership, Subscription

SECRET = "s3cret-t0ken"
# The reported targets, as rows written before creation parsed them.
MALFORMED = (
    "http://[::1",
    f"http://exa mple.org/?token={SECRET}",
    "http://127.0.0.1:8107\\@example.org/",
)
T0 = NOW + timedelta(minutes=1)


def plant(database: Database, partnership: str, target: str) -> uuid.UUID:
    """A webhook subscription written straight into the table, bypassing validation."""

    def run(s: Session) -> uuid.UUID:
        pid = s.scalars(select(Partnership.id).where(Partnership.code == partnership)).one()
        sub = Subscription(
            id=uuid.uuid4(),
            partnership_id=pid,
            channel="webhook",
            target=target,
            secret="whsec_old",
            topics=[],
            active=True,
            created_by="old-release",
            created_at=NOW - timedelta(days=30),
        )
        s.add(sub)
        s.flush()
        return sub.id

    return database.write(run)


def _setup(
    database: Database, rulebooks: RulebookRegistry, world: World, webhook: WebhookReceiver
) -> tuple[list[uuid.UUID], uuid.UUID]:
    bad = [plant(database, "alpha", t) for t in MALFORMED]
    good = subscribe(database, admin_ctx(world, rulebooks, "beta"), "beta", "webhook", webhook.url)
    make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    make_case(database, rulebooks, world.principals[("beta", "notifier")])
    return bad, good.subscription.id


def _states(database: Database, subs: list[uuid.UUID]) -> list[tuple[str, int, object]]:
    return [
        (d.status, d.attempts, d.next_attempt_at) for s in subs for d in deliveries(database, s)
    ]


def _assert_nothing_personal_logged(caplog: pytest.LogCaptureFixture) -> None:
    for record in caplog.records:
        text = record.getMessage()
        for word in (SECRET, "example.org", "mple"):
            assert word not in text, text


def test_a_malformed_subscription_fails_alone_and_the_others_are_delivered(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    notify_config: NotifyConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    bad, good = _setup(database, rulebooks, world, webhook)
    channels = default_channels(notify_config)  # 3 attempts, base 10 s
    first = run_once(database, channels, notify_config, T0)
    assert (first.claimed, first.delivered, first.retrying, first.dead) == (4, 1, 3, 0)
    assert [d.status for d in deliveries(database, good)] == ["delivered"]
    assert len(webhook.received) == 1
    assert _states(database, bad) == [("retrying", 1, T0 + timedelta(seconds=10))] * 3
    for sub in bad:
        (d,) = deliveries(database, sub)
        assert d.last_error is not None
        assert d.last_error.startswith("invalid target: ")
        assert SECRET not in d.last_error
        assert "mple" not in d.last_error
    t1 = T0 + timedelta(seconds=10)
    assert run_once(database, channels, notify_config, t1).retrying == 3
    assert _states(database, bad) == [("retrying", 2, t1 + timedelta(seconds=20))] * 3
    t2 = t1 + timedelta(seconds=20)
    assert run_once(database, channels, notify_config, t2).dead == 3
    assert [s[:2] for s in _states(database, bad)] == [("dead", 3)] * 3
    assert run_once(database, channels, notify_config, t2 + timedelta(days=1)).claimed == 0
    assert len(webhook.received) == 1
    _assert_nothing_personal_logged(caplog)


class Exploding:
    """A channel that raises an unforeseen exception (quoting the URL, as urllib's
    do) for targets holding the secret, and hands the rest to the real channel."""

    def __init__(self, real: Channel) -> None:
        self.real = real

    def send(self, item: Outgoing, now: object) -> None:
        if SECRET in item.target:
            raise RuntimeError(f"cannot reach {item.target}")
        self.real.send(item, now)  # type: ignore[arg-type]


def test_any_exception_of_one_delivery_is_its_failure(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    notify_config: NotifyConfig,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    odd = subscribe(
        database,
        admin_ctx(world, rulebooks),
        "alpha",
        "webhook",
        f"https://example.org/hook?token={SECRET}",
    )
    good = subscribe(database, admin_ctx(world, rulebooks, "beta"), "beta", "webhook", webhook.url)
    make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    make_case(database, rulebooks, world.principals[("beta", "notifier")])
    channels = {"webhook": Exploding(default_channels(notify_config)["webhook"])}
    report = run_once(database, channels, notify_config, T0)
    assert (report.claimed, report.delivered, report.retrying) == (2, 1, 1)
    assert report.errors == {"unexpected error (RuntimeError)": 1}
    (failed,) = deliveries(database, odd.subscription.id)
    assert (failed.status, failed.attempts, failed.last_error) == (
        "retrying",
        1,
        "unexpected error (RuntimeError)",
    )
    assert [d.status for d in deliveries(database, good.subscription.id)] == ["delivered"]
    logged = [r.getMessage() for r in caplog.records if str(failed.id) in r.getMessage()]
    assert len(logged) == 1
    assert "RuntimeError" in logged[0]
    _assert_nothing_personal_logged(caplog)


def test_deliveries_left_in_flight_by_a_dead_worker_are_claimed_again_and_delivered(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    notify_config: NotifyConfig,
) -> None:
    bad, good = _setup(database, rulebooks, world, webhook)
    database.write(lambda s: fan_out(s, T0))
    # what the old worker left when it died on the first malformed target
    assert len(database.write(lambda s: claim(s, T0, notify_config))) == 4
    assert {d.status for d in deliveries(database)} == {"in_flight"}
    channels = default_channels(notify_config)
    leased = T0 + timedelta(seconds=29)  # lease 30 s: still reserved
    assert run_once(database, channels, notify_config, leased).claimed == 0
    expired = T0 + timedelta(seconds=31)
    report = run_once(database, channels, notify_config, expired)
    assert (report.claimed, report.delivered, report.retrying) == (4, 1, 3)
    (delivered,) = deliveries(database, good)
    assert (delivered.status, delivered.attempts) == ("delivered", 2)
    assert [s[:2] for s in _states(database, bad)] == [("retrying", 2)] * 3
    assert len(webhook.received) == 1


def test_an_expired_lease_after_the_last_attempt_is_dead_not_sent_again(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    notify_config: NotifyConfig,
) -> None:
    subscribe(database, admin_ctx(world, rulebooks), "alpha", "webhook", webhook.url)
    make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    database.write(lambda s: fan_out(s, T0))
    lease = timedelta(seconds=31)
    for n in range(3):  # each attempt's worker dies mid-delivery (3 = max_attempts)
        assert len(database.write(lambda s, n=n: claim(s, T0 + n * lease, notify_config))) == 1
    report = run_once(database, default_channels(notify_config), notify_config, T0 + 3 * lease)
    assert (report.claimed, report.dead) == (0, 1)
    (d,) = deliveries(database)
    assert (d.status, d.attempts, d.lease_until) == ("dead", 3, None)
    assert d.last_error == "lease expired on the last attempt (the worker stopped mid-delivery)"
    assert webhook.received == []


def test_the_worker_process_keeps_running_past_malformed_subscriptions(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    db_url: str,
    tmp_path: Path,
) -> None:
    bad, good = _setup(database, rulebooks, world, webhook)
    worker = _worker(db_url, tmp_path)
    try:
        _until(lambda: [d.status for d in deliveries(database, good)] == ["delivered"])
        _until(lambda: all(s[:2] == ("retrying", 1) for s in _states(database, bad)))
        assert worker.poll() is None  # still running
    finally:
        worker.send_signal(signal.SIGTERM)
        _, err = worker.communicate(timeout=20)
    assert worker.returncode == 0, err.decode()
    assert b"Traceback" not in err
    assert SECRET.encode() not in err
    assert b"mple" not in err
    assert b"invalid target" in err  # the counts line names the reasons
