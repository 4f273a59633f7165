"""The rendered summary of a case (api/summary_cache.py) is reused only while the
case's ETag holds: never after a change or the next day, never for a caller who may
not see the case, never for a personal representation."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.api.helpers import command, open_case
from tests.support.db_plugin import Clock
from tests.support.world import World


def test_a_summary_is_reused_only_while_its_tag_holds(
    client: TestClient, raw: TestClient, world: World, clock: Clock
) -> None:
    case = open_case(client)
    path = f"/api/v1/cases/{case['id']}"
    viewer = world.auth("alpha", "viewer")
    first = raw.get(path, headers=viewer)
    again = raw.get(path, headers=viewer)
    assert first.status_code == again.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"] == '"1.20260115.s"'
    assert first.json()["records"] is None

    # another partnership's viewer: 404, whatever is cached
    assert raw.get(path, headers=world.auth("beta", "viewer")).status_code == 404

    assert command(client, case, "record_notification").status_code == 200
    moved = raw.get(path, headers=viewer)
    assert moved.headers["etag"] == '"2.20260115.s"'
    assert (moved.json()["version"], moved.json()["state"]) == (2, "rapid_review")

    clock.now += timedelta(days=1)  # deadline statuses count from today
    tomorrow = raw.get(path, headers=viewer)
    assert tomorrow.headers["etag"] == '"2.20260116.s"'
    assert tomorrow.json()["deadlines"] != moved.json()["deadlines"]

    personal = client.get(path)  # the officer: personal, never from the summary cache
    assert personal.headers["etag"] == '"2.20260116.p"'
    assert personal.json()["records"] is not None
