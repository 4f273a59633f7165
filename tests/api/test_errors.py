"""Refusals: each is problem+json, names the field or the state, and changes nothing."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import command, drive, open_case, timeline
from tests.support.factories import BODIES
from workflow.commands.registry import CASE_COMMANDS

PROBLEM = "application/problem+json"


def assert_unchanged(client: TestClient, case: dict[str, Any]) -> None:
    now = client.get(f"/api/v1/cases/{case['id']}").json()
    assert now["version"] == case["version"]
    assert now["state"] == case["state"]
    assert now["facts"] == case["facts"]
    assert len(timeline(client, case)) == case["version"]


def test_command_in_wrong_state_is_409_naming_state_and_allowed_actions(client: TestClient) -> None:
    case = open_case(client)
    response = command(client, case, "publish_report")
    assert response.status_code == 409
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith("command-not-allowed")
    assert problem["current_state"] == "notification_due"
    assert problem["allowed_actions"] == ["record_notification", "record_partners_informed"]
    assert problem["instance"] == f"/api/v1/cases/{case['id']}/publication"
    assert "notification_due" in problem["detail"]
    assert_unchanged(client, case)


def test_guard_refusal_is_409_with_the_rule(client: TestClient) -> None:
    case = drive(
        client,
        open_case(client),
        "record_notification",
        "complete_rapid_review",
        "record_decision",
        "record_panel_response",
    )
    response = command(client, case, "commission_reviewer", independence_declared=False)
    assert response.status_code == 409
    problem = response.json()
    assert problem["type"].endswith("rule-not-met")
    assert "reviewer_declared_independent" in problem["detail"]
    assert problem["current_state"] == "reviewer_commissioning"
    assert_unchanged(client, case)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"notification_date": "not-a-date"}, "notification_date"),
        ({}, "notification_date"),
        ({"notification_date": "2025-03-07", "surprise": 1}, "surprise"),
    ],
)
def test_invalid_body_is_422_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    case = open_case(client)
    response = client.post(
        f"/api/v1/cases/{case['id']}/notification", json=body, headers={"If-Match": '"1"'}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == PROBLEM
    assert field in [e["field"] for e in response.json()["errors"]]
    assert_unchanged(client, case)


def test_date_before_recorded_fact_is_422(client: TestClient) -> None:
    case = open_case(client)
    response = command(client, case, "record_notification", notification_date="2025-03-02")
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "notification_date",
            "message": "notification_date (2025-03-02) is before "
            "the case's aware_date (2025-03-03)",
        }
    ]
    assert_unchanged(client, case)


def test_future_date_is_422(client: TestClient) -> None:
    response = client.post(
        "/api/v1/incidents",
        json={**BODIES_INCIDENT, "incident_date": "2027-01-01", "aware_date": "2027-01-02"},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "incident_date"
    assert client.get("/api/v1/cases").json()["items"] == []


BODIES_INCIDENT = open_case.__globals__["incident"]()


def test_incident_validation_names_nested_field(client: TestClient) -> None:
    body = {
        **BODIES_INCIDENT,
        "criteria": {"nature": "accident", "abuse_or_neglect": "known", "child_age_years": 3},
    }
    response = client.post("/api/v1/incidents", json=body)
    assert response.status_code == 422
    assert "criteria.nature" in [e["field"] for e in response.json()["errors"]]
    too_many = {**BODIES_INCIDENT, "children": [{"pseudonym": f"Child {i}"} for i in range(5)]}
    assert client.post("/api/v1/incidents", json=too_many).status_code == 422
    assert client.get("/api/v1/cases").json()["items"] == []


def test_unknown_rulebook_is_422_on_rulebook_field(client: TestClient) -> None:
    response = client.post("/api/v1/incidents", json={**BODIES_INCIDENT, "rulebook": "mars-2099"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "rulebook"


def test_missing_if_match_is_428_and_stale_is_412(client: TestClient) -> None:
    case = open_case(client)
    url = f"/api/v1/cases/{case['id']}/notification"
    missing = client.post(url, json=BODIES["record_notification"])
    assert missing.status_code == 428
    assert missing.headers["content-type"] == PROBLEM
    case = drive(client, case, "record_partners_informed")
    stale = command(client, case, "record_notification", version=1)
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2
    assert stale.headers["etag"] == '"2"'
    assert_unchanged(client, case)


def test_missing_or_bad_token_is_401(client: TestClient) -> None:
    for headers in ({"Authorization": ""}, {"Authorization": "Bearer crt_not-a-real-token"}):
        response = client.post("/api/v1/incidents", json=BODIES_INCIDENT, headers=headers)
        assert response.status_code == 401
        assert response.headers["content-type"] == PROBLEM
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert client.get("/api/v1/cases").json()["items"] == []


@pytest.mark.parametrize("suffix", ["", "/timeline", "/next-actions"])
def test_unknown_case_reads_are_404(client: TestClient, suffix: str) -> None:
    response = client.get(f"/api/v1/cases/{uuid.uuid4()}{suffix}")
    assert response.status_code == 404
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["status"] == 404


def test_unknown_case_commands_are_404(client: TestClient) -> None:
    missing = uuid.uuid4()
    for cls in CASE_COMMANDS:
        response = client.post(
            f"/api/v1/cases/{missing}/{cls.path}",
            json=BODIES[cls.trigger],
            headers={"If-Match": '"1"'},
        )
        assert response.status_code == 404, cls.path


def test_unknown_route_and_method_are_problem_json(client: TestClient) -> None:
    assert client.get("/api/v1/nothing-here").headers["content-type"] == PROBLEM
    response = client.delete("/api/v1/cases")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM


def test_oversized_body_is_413(client: TestClient) -> None:
    body = {**BODIES_INCIDENT, "case_outline": "x" * 2_000_000}
    response = client.post("/api/v1/incidents", json=body)
    assert response.status_code == 413
    assert response.headers["content-type"] == PROBLEM


def test_unexpected_error_is_generic_500_without_trace(settings: Any) -> None:
    from api.main import create_app

    app = create_app(settings)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internal detail: child name")

    with TestClient(app, raise_server_exceptions=False) as c:
        response = c.get("/boom")
    assert response.status_code == 500
    assert response.headers["content-type"] == PROBLEM
    assert "secret" not in response.text
    assert "Traceback" not in response.text


def test_bad_cursor_is_400(client: TestClient) -> None:
    response = client.get("/api/v1/cases", params={"cursor": "!!!"})
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
