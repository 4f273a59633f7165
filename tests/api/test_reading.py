"""Reading: pagination, filters, next actions, rulebooks, headers."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient

from tests.api.helpers import drive, open_case
from tests.support.db_plugin import Clock


def test_list_is_paginated_newest_first_with_opaque_cursor(
    client: TestClient, clock: Clock
) -> None:
    ids = []
    for i in range(5):
        clock.now += timedelta(minutes=1)
        ids.append(open_case(client, local_reference=f"LA-{i}")["id"])
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/v1/cases", params=params).json()
        seen += [c["id"] for c in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert pages == 3
    assert sorted(seen) == sorted(ids)
    assert len(set(seen)) == 5
    refs = [c["local_reference"] for c in client.get("/api/v1/cases").json()["items"]]
    assert refs == [f"LA-{i}" for i in reversed(range(5))]


def test_list_filters_by_state_and_stage(client: TestClient) -> None:
    first = open_case(client)
    drive(client, open_case(client), "record_notification")
    open_case(
        client,
        criteria={"nature": "other", "abuse_or_neglect": "not_suspected", "child_age_years": 9},
    )
    by_state = client.get("/api/v1/cases", params={"state": "notification_due"}).json()["items"]
    assert [c["id"] for c in by_state] == [first["id"]]
    several = client.get(
        "/api/v1/cases", params=[("state", "rapid_review"), ("state", "not_notifiable")]
    ).json()
    assert len(several["items"]) == 2
    by_stage = client.get("/api/v1/cases", params={"stage": "rapid_review"}).json()["items"]
    assert len(by_stage) == 1
    assert client.get("/api/v1/cases", params={"limit": 201}).status_code == 422


def test_next_actions_come_from_the_rulebook(client: TestClient) -> None:
    case = drive(
        client, open_case(client), "record_notification", "complete_rapid_review", "record_decision"
    )
    body = client.get(f"/api/v1/cases/{case['id']}/next-actions").json()
    assert body["state"] == "panel_response_due"
    assert [a["action"] for a in body["actions"]] == [
        "record_panel_response",
        "close_case",
        "record_involvement",
    ]
    action = body["actions"][0]
    assert action["path"] == f"/api/v1/cases/{case['id']}/panel-response"
    assert action["leads_to"] == [
        "national_review",
        "reviewer_commissioning",
        "no_review",
        "decision_due",
    ]
    closing = body["actions"][1]  # only once a thematic review carries its learning
    assert closing["leads_to"] == ["closed"]


def test_case_read_has_etag_and_no_store(client: TestClient) -> None:
    case = open_case(client)
    response = client.get(f"/api/v1/cases/{case['id']}")
    assert response.headers["etag"] == '"1.20260115.p"'  # version, day, personal
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.json()["records"]["incident"]["children"][0]["pseudonym"] == "Child A"


def test_rulebook_is_served_as_data(client: TestClient) -> None:
    listed = client.get("/api/v1/rulebooks").json()["items"]
    assert "england-2023" in [r["id"] for r in listed]
    rb = client.get("/api/v1/rulebooks/england-2023").json()
    names = [s["name"] for s in rb["states"]]
    assert "rapid_review" in names
    assert names[-1] == "closed"
    assert any(t["trigger"] == "record_decision" for t in rb["transitions"])
    assert client.get("/api/v1/rulebooks/nowhere").status_code == 404


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["schema"] == ready.json()["expected_schema"]
