"""Fixtures for the fault tests: an app whose database sits behind a TcpProxy."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import create_engine, func, select

from api.deps import get_now
from api.main import create_app
from config.settings import Settings
from tests.support.factories import NOW
from tests.support.tcp_proxy import TcpProxy
from tests.support.world import World, build_world
from workflow.runtime import open_database
from workflow.storage.models import AuditRecord, Case, CaseEvent

# Short timeouts so a fault is answered quickly; the bound every request must meet.
CONNECT_TIMEOUT_S = 2
STATEMENT_TIMEOUT_MS = 1500
LOCK_TIMEOUT_MS = 1000
BOUND_S = CONNECT_TIMEOUT_S + STATEMENT_TIMEOUT_MS / 1000 + 1.5


def fault_settings(url: str, tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "database_url": url,
        "data_dir": tmp_path,
        "db_connect_timeout_seconds": CONNECT_TIMEOUT_S,
        "db_statement_timeout_ms": STATEMENT_TIMEOUT_MS,
        "db_lock_timeout_ms": LOCK_TIMEOUT_MS,
        "db_pool_timeout_seconds": 2.0,
        "sqlite_busy_timeout_ms": 300,
    }
    values.update(overrides)
    return Settings(**values)


def row_counts(url: str) -> tuple[int, int, int]:
    """(cases, timeline events, audit records), read past the proxy."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return tuple(  # type: ignore[return-value]
                conn.execute(select(func.count()).select_from(t)).scalar_one()
                for t in (Case, CaseEvent, AuditRecord)
            )
    finally:
        engine.dispose()


def timed(call: Any, *args: Any, **kwargs: Any) -> tuple[Response, float]:
    began = time.monotonic()
    response = call(*args, **kwargs)
    return response, time.monotonic() - began


def assert_unavailable(response: Response, elapsed: float, bound: float = BOUND_S) -> None:
    """503 problem+json with Retry-After, within the bound."""
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["status"] == 503
    assert elapsed < bound, f"took {elapsed:.2f}s, bound {bound:.2f}s"


@dataclass
class Proxied:
    client: TestClient
    proxy: TcpProxy
    direct_url: str  # the database itself, bypassing the proxy
    world: World


@contextmanager
def pg_database(pg_cluster: Any, pg_template: str) -> Iterator[str]:
    """A new database copied from the migrated template, dropped afterwards."""
    name = f"f_{uuid.uuid4().hex[:16]}"
    pg_cluster.create_database(name, template=pg_template)
    try:
        yield name
    finally:
        pg_cluster.drop_database(name)


@pytest.fixture
def pg_url(pg_cluster: Any, pg_template: str) -> Iterator[str]:
    """A migrated PostgreSQL database of this test's own."""
    with pg_database(pg_cluster, pg_template) as name:
        yield pg_cluster.url(name)


@pytest.fixture
def proxied(pg_cluster: Any, pg_template: str, tmp_path: Path) -> Iterator[Proxied]:
    """The app on PostgreSQL through a TcpProxy, signed in as la.officer."""
    with pg_database(pg_cluster, pg_template) as name:
        direct_url = pg_cluster.url(name)
        direct = open_database(Settings(database_url=direct_url))
        world = build_world(direct)
        direct.dispose()
        with TcpProxy("127.0.0.1", pg_cluster.port) as proxy:
            proxied_url = direct_url.replace(f":{pg_cluster.port}/", f":{proxy.port}/")
            app = create_app(fault_settings(proxied_url, tmp_path))
            app.dependency_overrides[get_now] = lambda: NOW
            headers = {"Authorization": f"Bearer {world.officer_token}"}
            with TestClient(app, headers=headers) as client:
                yield Proxied(client, proxy, direct_url, world)
