"""Helpers for driving the HTTP API in tests."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from api.routes.commands import PATH_OF_TRIGGER
from tests.support.factories import BODIES, incident


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
