"""PostgreSQL really stopped (pg_ctl stop on a cluster of this test's own) and started
again; and SQLite locked by another writer beyond the busy timeout."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.deps import get_now
from api.main import create_app
from config.settings import Settings
from tests.api.helpers import command, open_case
from tests.faults.conftest import assert_unavailable, fault_settings, row_counts, timed
from tests.support.factories import NOW, incident
from tests.support.postgres import ThrowawayCluster
from tests.support.world import build_world
from workflow.runtime import open_database
from workflow.storage import migrate


def _client(settings: Settings, token: str) -> TestClient:
    app = create_app(settings)
    app.dependency_overrides[get_now] = lambda: NOW
    return TestClient(app, headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
def own_cluster(pg_cluster: Any) -> Iterator[ThrowawayCluster]:
    if not isinstance(pg_cluster, ThrowawayCluster):
        pytest.skip("needs server binaries to stop and start a cluster of its own")
    cluster = ThrowawayCluster(pg_cluster.bindir).start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _pg_ctl(cluster: ThrowawayCluster, *args: str) -> None:
    pg_ctl = str(cluster.bindir / "pg_ctl")
    cluster._run(pg_ctl, *args, "--pgdata", str(cluster.data_dir), "--wait")


def test_postgresql_stopped_then_started(own_cluster: ThrowawayCluster, tmp_path: Path) -> None:
    own_cluster.create_database("casereview")
    url = own_cluster.url("casereview")
    migrate.upgrade(url)
    direct = open_database(Settings(database_url=url))
    world = build_world(direct)
    direct.dispose()
    with _client(fault_settings(url, tmp_path), world.officer_token) as client:
        case = open_case(client)
        before = row_counts(url)
        _pg_ctl(own_cluster, "stop", "--mode", "fast")
        for call, args, kwargs in (
            (command, (client, case, "record_notification"), {}),
            (client.post, ("/api/v1/incidents",), {"json": incident()}),
            (client.get, (f"/api/v1/cases/{case['id']}",), {}),
        ):
            response, elapsed = timed(call, *args, **kwargs)
            assert_unavailable(response, elapsed)
        assert client.get("/readyz").status_code == 503
        _pg_ctl(
            own_cluster, "start", "--log", str(own_cluster.log_path), "-o", f"-p {own_cluster.port}"
        )
        assert row_counts(url) == before
        assert client.get("/readyz").status_code == 200
        response = command(client, case, "record_notification")
        assert response.status_code == 200, response.text


def test_sqlite_locked_beyond_the_busy_timeout(sqlite_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "casereview.db"
    with sqlite3.connect(sqlite_template) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    url = f"sqlite:///{path}"
    direct = open_database(Settings(database_url=url))
    world = build_world(direct)
    direct.dispose()
    settings = fault_settings(url, tmp_path, sqlite_busy_timeout_ms=300)
    with _client(settings, world.officer_token) as client:
        case = open_case(client)
        before = row_counts(url)
        holder = sqlite3.connect(path, isolation_level=None)
        try:
            holder.execute("BEGIN IMMEDIATE")
            response, elapsed = timed(command, client, case, "record_notification")
            assert_unavailable(response, elapsed, bound=2.0)
            assert elapsed >= 0.25  # it waited for the busy timeout first
            response, elapsed = timed(client.post, "/api/v1/incidents", json=incident())
            assert_unavailable(response, elapsed, bound=2.0)
            holder.execute("ROLLBACK")
        finally:
            holder.close()
        assert row_counts(url) == before
        response = command(client, case, "record_notification")
        assert response.status_code == 200, response.text
