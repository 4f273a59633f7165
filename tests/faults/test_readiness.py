"""/readyz is ready only when the database answers AND its schema is at the head."""

from __future__ import annotations

from fastapi.testclient import TestClient

from workflow.storage import migrate


def test_not_ready_while_the_schema_is_behind(raw: TestClient, db_url: str) -> None:
    head = migrate.head_revision()
    assert raw.get("/readyz").status_code == 200
    migrate.downgrade(db_url, "-1")
    behind = raw.get("/readyz")
    assert behind.status_code == 503
    assert behind.json()["expected_schema"] == head
    assert behind.json()["schema"] not in (None, head)
    assert raw.get("/healthz").status_code == 200  # alive, just not ready
    migrate.upgrade(db_url)
    assert raw.get("/readyz").status_code == 200
