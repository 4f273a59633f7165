"""Inputs and situations that once produced a 500, a leak or a wrong answer."""

from __future__ import annotations

import base64
import threading
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import drive, open_case
from tests.support.factories import NOW, incident
from tests.support.world import ADMIN, World
from workflow.access import accounts
from workflow.storage.database import Database


def test_control_characters_are_refused(client: TestClient) -> None:
    for body in (
        incident(location="Home\u0000"),
        incident(local_reference="ref\x00x"),
        incident(children=[{"pseudonym": "Child\u0007A"}]),
    ):
        response = client.post("/api/v1/incidents", json=body)
        assert response.status_code == 422
        assert "control characters" in response.text
    assert client.get("/api/v1/cases").json()["items"] == []


@pytest.mark.parametrize("day", ["0001-01-10", "9999-12-31", "1989-12-31", "2101-01-01"])
def test_dates_outside_the_span_of_a_case_are_refused(client: TestClient, day: str) -> None:
    case = drive(client, open_case(client), "record_notification")
    response = client.post(
        f"/api/v1/cases/{case['id']}/deadline-adjustments",
        json={
            "deadline": "rapid_review_sent",
            "kind": "extension",
            "effective_date": day,
            "reason": "x",
            "approved_by": "y",
        },
        headers={"If-Match": '"2"'},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "effective_date"


def test_a_met_deadline_cannot_be_adjusted(client: TestClient) -> None:
    case = drive(
        client, open_case(client), ("record_notification", {"notification_date": "2025-03-11"})
    )
    response = client.post(
        f"/api/v1/cases/{case['id']}/deadline-adjustments",
        json={
            "deadline": "panel_notification",
            "kind": "extension",
            "effective_date": "2025-03-14",
            "reason": "Make it look on time",
            "approved_by": "me",
        },
        headers={"If-Match": '"2"'},
    )
    assert response.status_code == 422
    assert "met on 2025-03-11" in response.json()["detail"]
    earlier = client.post(
        f"/api/v1/cases/{case['id']}/deadline-adjustments",
        json={
            "deadline": "rapid_review_sent",
            "kind": "extension",
            "effective_date": "2025-03-20",
            "reason": "x",
            "approved_by": "y",
        },
        headers={"If-Match": '"2"'},
    )
    assert earlier.status_code == 422  # due 24 Mar: an "extension" to 20 Mar is not one


@pytest.mark.parametrize(
    "raw",
    [
        "2025-01-01T00:00:00|",
        "0001-01-01T00:00:00+14:00|",
        "9999-12-31T23:59:59-14:00|",
        "nonsense",
    ],
)
def test_crafted_cursors_are_400(client: TestClient, raw: str) -> None:
    cursor = base64.urlsafe_b64encode(f"{raw}{uuid.uuid4()}".encode()).decode()
    response = client.get("/api/v1/cases", params={"cursor": cursor})
    assert response.status_code == 400


def test_unknown_filter_values_are_422_with_the_choices(client: TestClient) -> None:
    for params, field in (
        ({"state": "bogus"}, "state"),
        ({"stage": "nope"}, "stage"),
        ({"deadline": "never"}, "deadline"),
    ):
        response = client.get("/api/v1/cases", params=params)
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field
        assert "one of:" in response.json()["detail"]


def test_invalid_json_names_the_body(client: TestClient) -> None:
    response = client.post(
        "/api/v1/incidents", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"


def test_rulebooks_need_a_token(raw: TestClient) -> None:
    for path in (
        "/api/v1/rulebooks",
        "/api/v1/rulebooks/england-2023",
        "/api/v1/rulebooks/england-2023/diagram",
    ):
        assert raw.get(path).status_code == 401


def test_replay_does_not_outlive_the_callers_roles(
    client: TestClient, database: Database, world: World
) -> None:
    key = {"Idempotency-Key": "replay-after-revoke"}
    first = client.post("/api/v1/incidents", json=incident(), headers=key)
    assert first.status_code == 201

    def strip(session: Any) -> None:
        user = accounts.get_user(session, "la.officer")
        partnership = accounts.get_partnership(session, "alpha")
        for role in ("notifier", "review_group"):
            accounts.revoke_role(session, user, partnership, role, now=NOW, by=ADMIN)

    database.write(strip)
    again = client.post("/api/v1/incidents", json=incident(), headers=key)
    assert again.status_code == 404
    assert "Child A" not in again.text


def test_adjustment_reasons_are_withheld_from_roles_without_personal_data(
    client: TestClient, raw: TestClient, world: World
) -> None:
    case = drive(client, open_case(client), "record_notification")
    reason = "Awaiting the father's police interview"
    client.post(
        f"/api/v1/cases/{case['id']}/deadline-adjustments",
        json={
            "deadline": "rapid_review_sent",
            "kind": "extension",
            "effective_date": "2025-03-31",
            "reason": reason,
            "approved_by": "Chair",
        },
        headers={"If-Match": '"2"'},
    )
    as_group = client.get(f"/api/v1/cases/{case['id']}").text
    as_viewer = raw.get(f"/api/v1/cases/{case['id']}", headers=world.auth("alpha", "viewer"))
    assert reason in as_group
    assert reason not in as_viewer.text
    assert "reason withheld" in as_viewer.text


def test_disabled_user_and_revoked_role(
    client: TestClient, database: Database, world: World
) -> None:
    case = open_case(client)
    viewer = {"Authorization": f"Bearer {world.token('alpha', 'viewer')}"}
    assert client.get(f"/api/v1/cases/{case['id']}", headers=viewer).status_code == 200

    def revoke(session: Any) -> None:
        accounts.revoke_role(
            session,
            accounts.get_user(session, "alpha-viewer"),
            accounts.get_partnership(session, "alpha"),
            "viewer",
            now=NOW,
            by=ADMIN,
        )

    database.write(revoke)
    assert client.get(f"/api/v1/cases/{case['id']}", headers=viewer).status_code == 404
    database.write(
        lambda s: accounts.set_active(
            s, accounts.get_user(s, "la.officer"), False, now=NOW, by=ADMIN
        )
    )
    assert client.get("/api/v1/cases").status_code == 401


def test_list_items_carry_the_next_deadline(client: TestClient) -> None:
    case = open_case(client)
    (item,) = client.get("/api/v1/cases").json()["items"]
    assert item["id"] == case["id"]
    # Pending: panel notification (10 Mar), partners informed (10 Mar), rapid review
    # (24 Mar); the earliest, by name on a tie.
    assert (item["next_deadline"], item["next_due_date"]) == ("panel_notification", "2025-03-10")


def test_audit_verification_is_consistent_under_concurrent_appends(
    client: TestClient, raw: TestClient, world: World
) -> None:
    case = open_case(client)
    stop = threading.Event()

    def read_repeatedly() -> None:
        while not stop.is_set():
            client.get(f"/api/v1/cases/{case['id']}")  # each read appends an audit record

    readers = [threading.Thread(target=read_repeatedly) for _ in range(3)]
    for t in readers:
        t.start()
    try:
        admin = world.auth("alpha", "partnership_admin")
        results = [
            raw.get("/api/v1/audit/verification", headers=admin).json()["ok"] for _ in range(15)
        ]
    finally:
        stop.set()
        for t in readers:
            t.join(timeout=30)
    assert all(results), results
