"""GET /cases: theme, date range, partnership, deadline state, sort, sparse fields."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import drive, open_case
from tests.support.db_plugin import Clock
from tests.support.world import World


def ids(client: TestClient, **params: Any) -> list[str]:
    response = client.get("/api/v1/cases", params=params)
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


def test_filters(client: TestClient, raw: TestClient, world: World, clock: Clock) -> None:
    early = open_case(client, incident_date="2025-01-02", aware_date="2025-01-06")
    clock.now += timedelta(minutes=1)
    late = open_case(client)  # aware 3 Mar 2025
    clock.now += timedelta(minutes=1)
    notified = drive(client, open_case(client), "record_notification")
    tagged = client.put(f"/api/v1/cases/{late['id']}/themes", json={"themes": ["domestic-abuse"]})
    assert tagged.status_code == 200, tagged.text
    assert ids(client, theme="domestic-abuse") == [late["id"]]
    assert ids(client, aware_to="2025-02-01") == [early["id"]]
    assert set(ids(client, aware_from="2025-03-01")) == {late["id"], notified["id"]}
    assert ids(client, deadline="panel_notification", deadline_state="met") == [notified["id"]]
    assert ids(client, sort="oldest") == [early["id"], late["id"], notified["id"]]
    assert ids(client) == [notified["id"], late["id"], early["id"]]
    pages, cursor = [], None
    while True:
        body = client.get(
            "/api/v1/cases",
            params={"sort": "oldest", "limit": 2, **({"cursor": cursor} if cursor else {})},
        ).json()
        pages.append([c["id"] for c in body["items"]])
        cursor = body["next_cursor"]
        if not cursor:
            break
    assert pages == [[early["id"], late["id"]], [notified["id"]]]
    assert ids(client, partnership="alpha") == ids(client)
    other = client.get("/api/v1/cases", params={"partnership": "beta"})
    assert other.status_code == 422  # not one of the caller's partnerships
    national = raw.get(
        "/api/v1/cases",
        params={"partnership": "beta"},
        headers={"Authorization": f"Bearer {world.national_token}"},
    )
    assert national.status_code == 200
    assert national.json()["items"] == []


def test_sparse_fields_and_unknown_parameters(client: TestClient) -> None:
    case = open_case(client)
    body = client.get("/api/v1/cases", params={"fields": "state,next_due_date"}).json()
    assert body["items"] == [
        {"id": case["id"], "state": "notification_due", "next_due_date": "2025-03-10"}
    ]
    bad = client.get("/api/v1/cases", params={"fields": "state,child_name"})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "fields"
    unknown = client.get("/api/v1/cases", params={"colour": "red"})
    assert unknown.status_code == 422
