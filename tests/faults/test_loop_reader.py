"""The event loop's PostgreSQL connections behind conditional GETs (workflow/
loop_reader.py): one killed while idle is replaced without an error reaching the
client, a change is seen at once (no stale 304), and an outage is a 503 problem+json
within the bound, waited for once (the fast path answers it, not the route again)."""

from __future__ import annotations

from pathlib import Path

import psycopg
from fastapi.testclient import TestClient

from api.deps import get_now
from api.main import create_app
from config.settings import Settings
from tests.api.helpers import command, open_case
from tests.faults.conftest import (
    CONNECT_TIMEOUT_S,
    Proxied,
    assert_unavailable,
    fault_settings,
    timed,
)
from tests.support.factories import NOW
from tests.support.world import build_world
from workflow.runtime import open_database
from workflow.storage.loop_reader import APPLICATION_NAME


def _loop_backends(direct_url: str, *, terminate: bool = False) -> set[int]:
    """The pids of the loop reader's sessions (terminated first if asked, waiting up to
    5 s for each to end)."""
    conninfo = direct_url.replace("postgresql+psycopg://", "postgresql://")
    kill = "pg_terminate_backend(pid, 5000)" if terminate else "true"
    with psycopg.connect(conninfo, autocommit=True) as admin:
        rows = admin.execute(
            f"SELECT pid, {kill} FROM pg_stat_activity "
            "WHERE application_name = %s AND datname = current_database()",
            (APPLICATION_NAME,),
        ).fetchall()
    return {pid for pid, _ in rows}


def test_a_loop_connection_killed_while_idle_is_replaced(proxied: Proxied) -> None:
    client, world = proxied.client, proxied.world
    case = open_case(client)
    path = f"/api/v1/cases/{case['id']}"
    viewer = world.auth("alpha", "viewer")
    tag = client.get(path, headers=viewer).headers["etag"]
    assert client.get(path, headers={**viewer, "If-None-Match": tag}).status_code == 304

    killed = _loop_backends(proxied.direct_url, terminate=True)
    assert killed  # the reader kept a connection, now dead
    again = client.get(path, headers={**viewer, "If-None-Match": tag})
    assert again.status_code == 304, again.text
    summary = client.get(path, headers=viewer)
    assert summary.status_code == 200
    assert summary.headers["etag"] == tag
    replaced = _loop_backends(proxied.direct_url)
    assert replaced
    assert not replaced & killed

    # read from the database every time: a change is seen by the next request
    assert command(client, case, "record_notification").status_code == 200
    moved = client.get(path, headers={**viewer, "If-None-Match": tag})
    assert moved.status_code == 200
    assert moved.headers["etag"] != tag


def test_an_outage_on_the_fast_path_is_a_503_then_service_resumes(proxied: Proxied) -> None:
    client, proxy, world = proxied.client, proxied.proxy, proxied.world
    case = open_case(client)
    path = f"/api/v1/cases/{case['id']}"
    viewer = world.auth("alpha", "viewer")
    tag = client.get(path, headers=viewer).headers["etag"]
    conditional = {**viewer, "If-None-Match": tag}
    assert client.get(path, headers=conditional).status_code == 304

    proxy.refuse()
    proxy.cut()
    r, s = timed(client.get, path, headers=conditional)
    assert_unavailable(r, s)

    proxy.heal()
    proxy.stall()
    r, s = timed(client.get, path, headers=conditional)
    assert_unavailable(r, s)
    assert CONNECT_TIMEOUT_S - 0.5 <= s < 2 * CONNECT_TIMEOUT_S  # one connect timeout
    proxy.heal()
    proxy.cut()  # release the stalled sockets
    assert client.get(path, headers=conditional).status_code == 304


def test_without_loop_connections_the_pool_answers(pg_url: str, tmp_path: Path) -> None:
    """CASEREVIEW_DB_LOOP_CONNECTIONS=0: the version checks run on the pool (a worker
    thread, pre-pinged connections) and answer the same."""
    database = open_database(Settings(database_url=pg_url))
    world = build_world(database)
    database.dispose()
    app = create_app(fault_settings(pg_url, tmp_path, db_loop_connections=0))
    app.dependency_overrides[get_now] = lambda: NOW
    with TestClient(app, headers={"Authorization": f"Bearer {world.officer_token}"}) as client:
        assert app.state.services.pg_reader is None
        case = open_case(client)
        path = f"/api/v1/cases/{case['id']}"
        viewer = world.auth("alpha", "viewer")
        tag = client.get(path, headers=viewer).headers["etag"]
        assert client.get(path, headers={**viewer, "If-None-Match": tag}).status_code == 304
        assert _loop_backends(pg_url) == set()
        assert client.get(path, headers=world.auth("beta", "viewer")).status_code == 404
