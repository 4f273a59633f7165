"""GET /cases?reference=&q=: a part of the local reference, and narrative text searched
only among the cases whose narrative the caller may read."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import drive, open_case
from tests.support.world import World


def ids(client: TestClient, headers: dict[str, str] | None = None, **params: Any) -> list[str]:
    response = client.get("/api/v1/cases", params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()["items"]]


def test_reference_and_text(client: TestClient, world: World) -> None:
    reviewed = drive(
        client,
        open_case(client, local_reference="NS-2025-001"),
        "record_notification",
        "complete_rapid_review",  # learning: "Bruising protocol not followed."
    )
    other = open_case(client, local_reference="ns-2025-002")
    open_case(client, local_reference="XY-9")
    assert set(ids(client, reference="NS-2025")) == {reviewed["id"], other["id"]}
    assert ids(client, q="bruising PROTOCOL") == [reviewed["id"]]
    assert ids(client, q="bruising", reference="002") == []
    viewer = world.auth("alpha", "viewer")  # may list, may not read the narrative
    assert ids(client, viewer, reference="XY") != []
    assert ids(client, viewer, q="bruising") == []
    too_long = client.get("/api/v1/cases", params={"q": "x" * 201})
    assert too_long.status_code == 422
    assert "q" in too_long.text
