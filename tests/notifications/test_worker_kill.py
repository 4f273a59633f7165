"""A `casereview worker` killed mid-delivery loses nothing: its lease expires, another
worker delivers the same message (same idempotency id) and stops cleanly on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.notifications.conftest import admin_ctx, deliveries, messages, subscribe
from tests.notifications.receivers import WebhookReceiver
from tests.support.factories import make_case
from tests.support.world import World
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database

ROOT = Path(__file__).resolve().parents[2]


def _worker(db_url: str, data_dir: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "CASEREVIEW_DATABASE_URL": db_url,
        "CASEREVIEW_DATA_DIR": str(data_dir),
        "CASEREVIEW_NOTIFY_LEASE_SECONDS": "1",
        "CASEREVIEW_WEBHOOK_TIMEOUT_SECONDS": "30",
        "CASEREVIEW_WEBHOOK_ALLOWED_NETWORKS": '["127.0.0.0/8"]',  # the test's receiver
    }
    return subprocess.Popen(
        [sys.executable, "-m", "api.cli", "worker", "--poll-seconds", "0.1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _until(check: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


def test_a_worker_killed_mid_delivery_loses_nothing(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    db_url: str,
    tmp_path: Path,
) -> None:
    subscribe(database, admin_ctx(world, rulebooks), "alpha", "webhook", webhook.url)
    make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    webhook.stall = True  # the receiver takes the request and never answers
    first = _worker(db_url, tmp_path)
    try:
        assert webhook.arrived.wait(30), first.stderr.read1().decode() if first.stderr else ""
        (claimed,) = deliveries(database)
        assert (claimed.status, claimed.attempts) == ("in_flight", 1)
        assert claimed.lease_until is not None
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(10)
    webhook.stall = False
    webhook.release.set()

    second = _worker(db_url, tmp_path)
    try:
        _until(lambda: deliveries(database)[0].status == "delivered")
    finally:
        second.send_signal(signal.SIGTERM)
        _, err = second.communicate(timeout=20)
    assert second.returncode == 0, err.decode()
    assert b"worker stopped" in err
    (delivered,) = deliveries(database)
    assert delivered.attempts == 2
    (message,) = messages(database)
    assert [r.json["id"] for r in webhook.received] == [str(message.id)] * 2
    assert {r.headers["Idempotency-Key"] for r in webhook.received} == {str(message.id)}
    assert webhook.received[0].body == webhook.received[1].body
