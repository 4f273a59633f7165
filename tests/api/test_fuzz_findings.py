"""Regressions for what the schemathesis run (tests/fuzz/) found, one test per finding,
and the schema promises it relies on (documented errors, If-Match, links)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import open_case
from tests.support.factories import BODIES, incident

PROBLEM = "application/problem+json"


def _schema(client: TestClient) -> dict[str, Any]:
    schema: dict[str, Any] = client.get("/openapi.json").json()
    return schema


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/actions?due_before=0",
        "/api/v1/dashboard?from=0",
        "/api/v1/dashboard?to=20250101",
        "/api/v1/cases?aware_from=1",
        "/api/v1/cases?aware_to=2025-1-1",
    ],
)
def test_a_number_is_not_a_date_in_a_query(client: TestClient, url: str) -> None:
    # Found: `?due_before=0` was read as 1970-01-01 (seconds since the epoch) and answered 200.
    response = client.get(url)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert "YYYY-MM-DD" in response.json()["detail"]


def test_a_date_in_a_query_still_works(client: TestClient) -> None:
    assert client.get("/api/v1/actions?due_before=2026-03-01").status_code == 200
    assert client.get("/api/v1/dashboard?from=2025-01-01&to=2025-12-31").status_code == 200


def test_405_names_every_method_of_the_path(client: TestClient) -> None:
    # Found: `Allow: GET` for /cases/{id}/actions, which also takes POST (Starlette named
    # only the first route matching the path).
    case = open_case(client)
    response = client.request("OPTIONS", f"/api/v1/cases/{case['id']}/actions")
    assert response.status_code == 405
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["allow"] == "GET, POST"
    assert client.delete("/api/v1/feeds").headers["allow"] == "GET, POST"


def test_unparseable_body_is_a_documented_400(client: TestClient) -> None:
    # Found: a body that is not JSON got 400, which no operation documented.
    response = client.post(
        "/api/v1/incidents", content=b"\x80{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    assert response.headers["content-type"] == PROBLEM
    documented = _schema(client)["paths"]["/api/v1/incidents"]["post"]["responses"]
    assert PROBLEM in documented["400"]["content"]


def test_every_operation_documents_its_errors_as_problem_json(client: TestClient) -> None:
    for path, item in _schema(client)["paths"].items():
        for method, operation in item.items():
            responses = operation["responses"]
            assert "500" in responses, (method, path)
            if "requestBody" in operation:
                assert {"400", "413", "422"} <= set(responses), (method, path)
            if operation.get("security"):
                assert "401" in responses, (method, path)
            for code, response in responses.items():
                if int(code) >= 400:
                    assert list(response["content"]) == [PROBLEM], (method, path, code)


def test_if_match_is_required_with_the_accepted_shape(client: TestClient) -> None:
    # Found: commands without If-Match were schema-valid yet always answered 428.
    operation = _schema(client)["paths"]["/api/v1/cases/{case_id}/decision"]["post"]
    if_match = next(p for p in operation["parameters"] if p["name"] == "if-match")
    assert if_match["required"] is True
    assert {"412", "428"} <= set(operation["responses"])
    pattern = re.compile(if_match["schema"]["pattern"])
    for accepted in ('"3"', '"3.20260115.p"', "3"):
        assert pattern.match(accepted), accepted
    assert not pattern.match("W/x")


def test_creating_a_case_links_to_reading_and_commanding_it(client: TestClient) -> None:
    paths = _schema(client)["paths"]
    for creator in ("/api/v1/incidents", "/api/v1/thematic-reviews"):
        links = paths[creator]["post"]["responses"]["201"]["links"]
        assert links["ReadCase"]["parameters"] == {"case_id": "$response.body#/id"}
        assert (
            links["ReadTimeline"]["operationId"]
            == paths["/api/v1/cases/{case_id}/timeline"]["get"]["operationId"]
        )
        assert links["CommandDecision"]["parameters"] == {
            "case_id": "$response.body#/id",
            "header.If-Match": "$response.header.ETag",
        }
    command = paths["/api/v1/cases/{case_id}/notification"]["post"]["responses"]["200"]
    assert "CommandPartnersInformed" in command["links"]


def test_the_link_values_work(client: TestClient) -> None:
    """What the links promise: the body's id reads the case, the ETag commands it."""
    opened = client.post("/api/v1/incidents", json=incident())
    case_id, etag = opened.json()["id"], opened.headers["etag"]
    assert client.get(f"/api/v1/cases/{case_id}").status_code == 200
    informed = client.post(
        f"/api/v1/cases/{case_id}/partners-informed",
        json=BODIES["record_partners_informed"],
        headers={"If-Match": etag},
    )
    assert informed.status_code == 200, informed.text
