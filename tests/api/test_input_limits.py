"""Deeply nested JSON is a 422 naming the body, whatever the depth; every response,
an unhandled exception's 500 included, carries the request id and security headers
(issue 13, item 7). SQLite and PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from api.input_limits import MAX_JSON_DEPTH
from api.observability import JsonFormatter
from tests.support.factories import incident
from tests.support.world import World

BOOM = "/api/v1/test-only/boom"
SECURITY = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "no-referrer",
    "cache-control": "no-store",
}


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def post_json(client: TestClient, path: str, body: bytes) -> Response:
    return client.post(path, content=body, headers={"Content-Type": "application/json"})


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 500, 3000])
def test_deep_json_is_one_422_naming_the_body(client: TestClient, depth: int) -> None:
    response = post_json(client, "/api/v1/incidents", nested(depth))
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:casereview:problem:validation-error"
    assert problem["errors"] == [
        {"field": "body", "message": f"JSON nested deeper than {MAX_JSON_DEPTH} levels"}
    ]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert client.get("/api/v1/cases").json()["items"] == []


def test_deep_objects_and_commands_are_refused_too(client: TestClient) -> None:
    deep_object = b'{"a":' * 600 + b"1" + b"}" * 600
    for path in ("/api/v1/incidents", "/api/v1/feeds"):
        response = post_json(client, path, deep_object)
        assert response.status_code == 422, path
        assert response.json()["errors"][0]["field"] == "body"


def test_depth_within_the_limit_and_brackets_inside_text_are_not_refused(
    client: TestClient,
) -> None:
    at_limit = post_json(client, "/api/v1/incidents", nested(MAX_JSON_DEPTH))
    assert at_limit.status_code == 422  # the schema's answer: not an object
    assert "nested deeper" not in at_limit.text
    bracketed = incident(case_outline="[" * 600 + '\\" {{{', location="]]]" * 50)
    created = client.post("/api/v1/incidents", json=bracketed)
    assert created.status_code == 201, created.text


@pytest.fixture
def failing(app: FastAPI, world: World) -> Iterator[TestClient]:
    """A client of the app with one test-only route that raises."""

    quoted = "Child A"  # an exception's text may quote data: it reaches no one

    async def boom() -> None:
        raise RuntimeError(f"an unexpected failure quoting {quoted}")

    app.add_api_route(BOOM, boom, methods=["GET"])
    headers = {"Authorization": f"Bearer {world.officer_token}"}
    with TestClient(app, headers=headers, raise_server_exceptions=False) as test_client:
        yield test_client


def test_an_unhandled_exception_is_a_500_with_every_header(
    failing: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        response = failing.get(BOOM, headers={"X-Request-ID": "req-boom"})
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == "urn:casereview:problem:internal-error"
    assert "Child A" not in response.text
    assert response.headers["x-request-id"] == "req-boom"
    for name, value in SECURITY.items():
        assert response.headers[name] == value, name
    access = [
        json.loads(JsonFormatter().format(r))
        for r in caplog.records
        if r.name == "casereview.access"
    ]
    assert [(a["status"], a["request_id"]) for a in access] == [(500, "req-boom")]
    assert "Child A" not in caplog.text


def test_every_error_response_carries_the_headers(failing: TestClient, raw: TestClient) -> None:
    big = b'{"a": "' + b"x" * (1024 * 1024 + 1) + b'"}'
    answers = {
        401: raw.get("/api/v1/cases"),
        404: failing.get("/api/v1/nowhere"),
        405: failing.delete("/api/v1/cases"),
        413: post_json(failing, "/api/v1/incidents", big),
        422: post_json(failing, "/api/v1/incidents", nested(500)),
        500: failing.get(BOOM),
    }
    for status, response in answers.items():
        assert response.status_code == status
        assert response.headers["content-type"] == "application/problem+json", status
        assert len(response.headers["x-request-id"]) == 32, status
        for name, value in SECURITY.items():
            assert response.headers[name] == value, (status, name)
