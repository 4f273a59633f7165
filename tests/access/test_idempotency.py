"""Idempotency-Key: replays return the first response without a second effect."""

from __future__ import annotations

import threading

from fastapi.testclient import TestClient

from tests.api.helpers import open_case, timeline
from tests.support.factories import BODIES, incident
from tests.support.world import World


def test_replayed_incident_creates_one_case(client: TestClient) -> None:
    key = {"Idempotency-Key": "incident-0001"}
    first = client.post("/api/v1/incidents", json=incident(), headers=key)
    again = client.post("/api/v1/incidents", json=incident(), headers=key)
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    assert again.headers["idempotent-replayed"] == "true"
    assert len(client.get("/api/v1/cases").json()["items"]) == 1


def test_same_key_different_request_is_422(client: TestClient) -> None:
    key = {"Idempotency-Key": "incident-0002"}
    assert client.post("/api/v1/incidents", json=incident(), headers=key).status_code == 201
    other = client.post("/api/v1/incidents", json=incident(location="Elsewhere"), headers=key)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "header.idempotency-key"
    assert len(client.get("/api/v1/cases").json()["items"]) == 1


def test_replayed_command_has_no_second_effect(client: TestClient) -> None:
    case = open_case(client)
    headers = {"Idempotency-Key": "notify-0001", "If-Match": '"1"'}
    url = f"/api/v1/cases/{case['id']}/notification"
    first = client.post(url, json=BODIES["record_notification"], headers=headers)
    again = client.post(url, json=BODIES["record_notification"], headers=headers)
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json()
    assert again.headers["etag"] == '"2"'
    assert len(timeline(client, case)) == 2


def test_keys_are_scoped_to_the_caller(raw: TestClient, world: World) -> None:
    key = "shared-key-0001"
    for partnership in ("alpha", "beta"):
        response = raw.post(
            "/api/v1/incidents",
            json=incident(),
            headers={**world.auth(partnership, "notifier"), "Idempotency-Key": key},
        )
        assert response.status_code == 201
        assert "idempotent-replayed" not in response.headers


def test_concurrent_replays_of_one_key_create_one_case(client: TestClient) -> None:
    barrier = threading.Barrier(8)
    statuses: list[int] = []
    bodies: list[str] = []

    def send() -> None:
        barrier.wait()
        response = client.post(
            "/api/v1/incidents", json=incident(), headers={"Idempotency-Key": "race-0001"}
        )
        statuses.append(response.status_code)
        bodies.append(response.json()["id"])

    threads = [threading.Thread(target=send) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert statuses == [201] * 8
    assert len(set(bodies)) == 1
    assert len(client.get("/api/v1/cases").json()["items"]) == 1


def test_invalid_key_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/v1/incidents", json=incident(), headers={"Idempotency-Key": "bad key with spaces"}
    )
    assert response.status_code == 422
