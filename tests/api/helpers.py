"""Helpers for driving the HTTP API in tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from tests.support.factories import BODIES, incident
from workflow.commands.registry import PATH_OF_TRIGGER


def open_case(client: TestClient, **overrides: Any) -> dict[str, Any]:
    response = client.post("/api/v1/incidents", json=incident(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def command(
    client: TestClient,
    case: dict[str, Any],
    trigger: str,
    *,
    version: int | None = None,
    headers: dict[str, str] | None = None,
    **overrides: Any,
) -> Response:
    body = {**BODIES[trigger], **overrides}
    if_match = f'"{case["version"] if version is None else version}"'
    return client.post(
        f"/api/v1/cases/{case['id']}/{PATH_OF_TRIGGER[trigger]}",
        json=body,
        headers={"If-Match": if_match, **(headers or {})},
    )


def drive(
    client: TestClient, case: dict[str, Any], *steps: str | tuple[str, dict[str, Any]]
) -> dict[str, Any]:
    """Apply each step (trigger, or (trigger, overrides)); every one must succeed."""
    for step in steps:
        trigger, overrides = (step, {}) if isinstance(step, str) else step
        response = command(client, case, trigger, **overrides)
        assert response.status_code == 200, f"{trigger}: {response.text}"
        assert response.headers["etag"] == f'"{case["version"] + 1}"'
        case = response.json()
    return case


def timeline(client: TestClient, case: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/cases/{case['id']}/timeline")
    assert response.status_code == 200
    items: list[dict[str, Any]] = response.json()["items"]
    return items


ACTION = {
    "recommendation_number": 1,
    "description": "Re-issue the bruising protocol",
    "agency": "health_icb",
    "owner": "Designated nurse",
    "due_date": "2025-10-31",
}


def complete_action_plan(client: TestClient, case: dict[str, Any]) -> dict[str, Any]:
    """Give every recommendation an action, complete and sign each off; the case after."""
    url = f"/api/v1/cases/{case['id']}/actions"
    plan = client.get(url).json()
    version = plan["version"]
    for rec in plan["recommendations"]:
        added = client.post(
            url,
            json={**ACTION, "recommendation_number": rec["number"]},
            headers={"If-Match": f'"{version}"'},
        )
        assert added.status_code == 201, added.text
        version = added.json()["version"]
        action_id = added.json()["actions"][-1]["id"]
        for step, body in (
            (
                "progress",
                {
                    "status": "completed_awaiting_evidence",
                    "note": "Protocol re-issued to all staff",
                },
            ),
            ("sign-off", {"note": "Evidence seen by the sub-group"}),
        ):
            done = client.post(
                f"{url}/{action_id}/{step}", json=body, headers={"If-Match": f'"{version}"'}
            )
            assert done.status_code == 200, done.text
            version = done.json()["version"]
    after: dict[str, Any] = client.get(f"/api/v1/cases/{case['id']}").json()
    return after
