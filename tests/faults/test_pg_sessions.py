"""What every application session on PostgreSQL runs with, and a real deadlock that
the application retries without the client noticing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import psycopg
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import text

from api.deps import get_now
from api.main import create_app
from config.settings import Settings
from tests.api.helpers import command, open_case
from tests.support.factories import NOW
from tests.support.world import build_world
from workflow.runtime import open_database


def test_sessions_carry_the_timeouts_and_keep_synchronous_commit_on(pg_url: str) -> None:
    """The test cluster itself runs with synchronous_commit=off: the app overrides it."""
    settings = Settings(
        database_url=pg_url, db_statement_timeout_ms=15_000, db_lock_timeout_ms=4_000
    )
    database = open_database(settings)
    try:
        shown = database.read(
            lambda s: [
                s.execute(text(f"SHOW {name}")).scalar_one()
                for name in ("synchronous_commit", "statement_timeout", "lock_timeout")
            ]
        )
        isolation = database.read(
            lambda s: s.execute(text("SHOW transaction_isolation")).scalar_one()
        )
    finally:
        database.dispose()
    assert shown == ["on", "15s", "4s"]
    assert isolation == "read committed"


def _deadlocks(conn: psycopg.Connection, dbname: str) -> int:
    row = conn.execute(
        "SELECT deadlocks FROM pg_stat_database WHERE datname = %s", (dbname,)
    ).fetchone()
    assert row is not None
    return int(row[0])


def _wait_for_lock_wait(conn: psycopg.Connection, dbname: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock'",
            (dbname,),
        ).fetchone()
        if row and row[0]:
            return
        time.sleep(0.02)
    raise AssertionError("the command never waited for the audit chain lock")


def test_a_deadlocked_command_is_retried_and_succeeds(pg_url: str, tmp_path: Path) -> None:
    """Another session holds the audit chain head and then asks for the case row the
    command holds: PostgreSQL aborts the command with 40P01, the application runs it
    again, and the client just sees 200."""
    database = open_database(Settings(database_url=pg_url))
    world = build_world(database)
    database.dispose()
    app = create_app(Settings(database_url=pg_url, data_dir=tmp_path))
    app.dependency_overrides[get_now] = lambda: NOW
    conninfo = pg_url.replace("postgresql+psycopg://", "postgresql://")
    dbname = pg_url.rsplit("/", 1)[1]
    headers = {"Authorization": f"Bearer {world.officer_token}"}
    with (
        TestClient(app, headers=headers) as client,
        psycopg.connect(conninfo, autocommit=True) as observer,
        psycopg.connect(conninfo) as blocker,
    ):
        case = open_case(client)
        before = _deadlocks(observer, dbname)
        blocker.execute("SET deadlock_timeout = '30s'")  # the command is the one to detect it
        blocker.execute("SELECT 1 FROM audit_chain_head WHERE chain = 'alpha' FOR UPDATE")
        result: list[Response] = []
        worker = threading.Thread(
            target=lambda: result.append(command(client, case, "record_notification"))
        )
        worker.start()
        _wait_for_lock_wait(observer, dbname)
        blocker.execute('SELECT 1 FROM "case" WHERE id = %s FOR UPDATE', (case["id"],))
        blocker.rollback()  # the command's second attempt goes through
        worker.join(timeout=30)
        assert _deadlocks(observer, dbname) == before + 1
        (response,) = result
        assert response.status_code == 200, response.text
        events = client.get(f"/api/v1/cases/{case['id']}/timeline").json()["items"]
        assert [e["event_type"] for e in events].count("record_notification") == 1
