"""PostgreSQL unreachable, cut off or slow (through a TcpProxy): every affected request
is a 503 problem+json with Retry-After within the bound, nothing is half written,
/readyz says not ready, and service resumes on its own when the network heals."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import command, open_case
from tests.faults.conftest import (
    CONNECT_TIMEOUT_S,
    LOCK_TIMEOUT_MS,
    Proxied,
    assert_unavailable,
    row_counts,
    timed,
)
from tests.support.factories import incident


def _every_kind_of_request(client: TestClient, case: dict[str, Any], key: str) -> None:
    """A new case, a command, a read and a list: all 503 within the bound."""
    r, s = timed(
        client.post, "/api/v1/incidents", json=incident(), headers={"Idempotency-Key": key}
    )
    assert_unavailable(r, s)
    r, s = timed(command, client, case, "record_notification")
    assert_unavailable(r, s)
    r, s = timed(client.get, f"/api/v1/cases/{case['id']}")
    assert_unavailable(r, s)
    r, s = timed(client.get, "/api/v1/cases")
    assert_unavailable(r, s)


def _not_ready(client: TestClient) -> None:
    r, s = timed(client.get, "/readyz")
    assert r.status_code == 503, r.text
    assert "retry-after" in r.headers
    assert s < CONNECT_TIMEOUT_S + 3


def _resumes(client: TestClient, case: dict[str, Any], key: str) -> None:
    """No restart: the same app serves again, and the refused writes can be retried."""
    assert client.get("/readyz").status_code == 200
    r = command(client, case, "record_notification")
    assert r.status_code == 200, r.text
    r = client.post("/api/v1/incidents", json=incident(), headers={"Idempotency-Key": key})
    assert r.status_code == 201, r.text
    assert "idempotent-replayed" not in r.headers  # the 503 attempt left no record


def test_connections_cut_and_refused(proxied: Proxied, caplog: pytest.LogCaptureFixture) -> None:
    client, proxy = proxied.client, proxied.proxy
    case = open_case(client)
    before = row_counts(proxied.direct_url)
    proxy.refuse()
    proxy.cut()
    _every_kind_of_request(client, case, "fault-cut-0001")
    _not_ready(client)
    assert row_counts(proxied.direct_url) == before
    assert "database unavailable: OperationalError" in caplog.text  # operators see why
    proxy.heal()
    _resumes(client, case, "fault-cut-0001")


def test_new_connections_stall_until_the_connect_timeout(proxied: Proxied) -> None:
    client, proxy = proxied.client, proxied.proxy
    case = open_case(client)
    before = row_counts(proxied.direct_url)
    proxy.stall()
    proxy.cut()
    r, s = timed(command, client, case, "record_notification")
    assert_unavailable(r, s)
    assert s >= CONNECT_TIMEOUT_S - 0.5  # it really waited for the connect timeout
    _not_ready(client)
    assert row_counts(proxied.direct_url) == before
    proxy.heal()
    proxy.cut()  # release the stalled sockets
    _resumes(client, case, "fault-stall-001")


def test_latency_slows_requests_without_failing_them(proxied: Proxied) -> None:
    client, proxy = proxied.client, proxied.proxy
    case = open_case(client)
    proxy.latency = 0.02
    r, s = timed(command, client, case, "record_notification")
    assert r.status_code == 200, r.text
    assert s > 0.1  # every round trip paid the latency
    assert client.get(f"/api/v1/cases/{case['id']}").status_code == 200
    proxy.heal()


def test_a_row_lock_held_too_long_is_a_503_and_writes_nothing(proxied: Proxied) -> None:
    """A slow database: another session holds the case's row lock past lock_timeout."""
    client = proxied.client
    case = open_case(client)
    before = row_counts(proxied.direct_url)
    conninfo = proxied.direct_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as blocker:
        blocker.execute('SELECT 1 FROM "case" WHERE id = %s FOR UPDATE', (case["id"],))
        r, s = timed(command, client, case, "record_notification")
        assert_unavailable(r, s)
        assert s >= LOCK_TIMEOUT_MS / 1000 - 0.2
        assert row_counts(proxied.direct_url) == before
        blocker.rollback()
    r = command(client, case, "record_notification")
    assert r.status_code == 200, r.text
