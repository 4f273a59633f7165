"""The rendered summary of a case (api/summary_cache.py) is reused only while the
case's ETag holds: never after a change or the next day, never for a caller who may
not see the case, never for a personal representation."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from tests.api.helpers import command, open_case
from tests.support.db_plugin import NOW, Clock
from tests.support.world import ADMIN, World
from workflow.access import accounts
from workflow.storage.database import Database
from workflow.storage.models import ApiToken


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
    for header in ("content-type", "content-length", "cache-control", "x-content-type-options"):
        assert again.headers[header] == first.headers[header]
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


def test_a_304_answered_before_routing_is_the_routes_answer(
    client: TestClient, raw: TestClient, world: World, database: Database
) -> None:
    """api/conditional_get.py: same tag, headers and refusals as the route."""
    case = open_case(client)
    path = f"/api/v1/cases/{case['id']}"
    viewer = world.auth("alpha", "viewer")
    tag = raw.get(path, headers=viewer).headers["etag"]  # caches the viewer's token
    hit = raw.get(path, headers={**viewer, "If-None-Match": tag, "X-Request-ID": "poll-1"})
    assert (hit.status_code, hit.content, hit.headers["etag"]) == (304, b"", tag)
    assert hit.headers["cache-control"] == "private, no-cache"
    assert hit.headers["x-content-type-options"] == "nosniff"
    assert hit.headers["x-request-id"] == "poll-1"
    beta = raw.get(path, headers={**world.auth("beta", "viewer"), "If-None-Match": tag})
    assert beta.status_code == 404

    def revoke(s: Session) -> None:  # a change committed in this process empties the cache
        user = accounts.get_user(s, "la.officer")
        for token in s.scalars(select(ApiToken).where(ApiToken.user_id == user.id)):
            accounts.revoke_token(s, token.id, NOW, by=ADMIN)

    officer_tag = client.get(path).headers["etag"]
    assert client.get(path, headers={"If-None-Match": officer_tag}).status_code == 304
    database.write(revoke)
    assert client.get(path, headers={"If-None-Match": officer_tag}).status_code == 401
