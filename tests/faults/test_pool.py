"""No free pooled connection within the pool timeout: a 503 with Retry-After, not a 500."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from api.deps import get_now
from api.main import create_app
from tests.faults.conftest import assert_unavailable, fault_settings, timed
from tests.support.factories import NOW
from tests.support.world import World


def test_pool_exhausted_is_a_503(db_url: str, tmp_path: Path, world: World) -> None:
    settings = fault_settings(
        db_url, tmp_path, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.5
    )
    app = create_app(settings)
    app.dependency_overrides[get_now] = lambda: NOW
    headers = {"Authorization": f"Bearer {world.officer_token}"}
    with TestClient(app, headers=headers) as client:
        assert client.get("/api/v1/cases").status_code == 200
        engine = app.state.services.database.engine
        # every pooled connection (SQLite's pool has one more: the event loop's reader's)
        held = [engine.connect() for _ in range(engine.pool.size())]
        try:
            response, elapsed = timed(client.get, "/api/v1/cases")
            assert_unavailable(response, elapsed, bound=3.0)
            assert elapsed >= 0.4
        finally:
            for conn in held:
                conn.close()
        assert client.get("/api/v1/cases").status_code == 200
