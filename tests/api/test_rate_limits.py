"""Rate limits through the real application: failed authentication per client address,
requests per user, the off switch, the exempt probes, the log line, the schema.

Small limits (3 failures, 5 requests per 60 s); time moves with the `clock` fixture."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from api.errors import PROBLEM_JSON
from api.main import create_app
from config.settings import Settings
from tests.api.helpers import open_case
from tests.support.db_plugin import Clock
from tests.support.web import sign_in, sign_in_as
from tests.support.world import World
from workflow.storage.database import Database

FAILURES, REQUESTS, WINDOW = 3, 5, 60
CASES = "/api/v1/cases"
BAD = {"Authorization": "Bearer crv_not-a-token"}


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=db_url,
        data_dir=tmp_path,
        rate_limit_auth_failures=FAILURES,
        rate_limit_requests=REQUESTS,
        rate_limit_window_seconds=WINDOW,
    )


@pytest.fixture
def other_address(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, client=("192.0.2.7", 50000)) as test_client:
        yield test_client


def assert_limited(response: Response, limit_words: str, retry_after: int) -> None:
    assert response.status_code == 429, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.headers["retry-after"] == str(retry_after)
    problem = response.json()
    assert problem["type"] == "urn:casereview:problem:rate-limited"
    assert problem["status"] == 429
    assert limit_words in problem["detail"]
    assert f"retry after {retry_after} seconds" in problem["detail"]


def test_failed_authentication_is_limited_per_address(
    raw: TestClient, other_address: TestClient, world: World, clock: Clock
) -> None:
    for _ in range(FAILURES):
        assert raw.get(CASES, headers=BAD).status_code == 401
    clock.now += timedelta(seconds=20)
    assert_limited(raw.get(CASES, headers=BAD), "failed authentications", WINDOW - 20)
    assert_limited(raw.get(CASES), "failed authentications", WINDOW - 20)  # no credential
    # A valid credential from the same address is still served (module docstring of
    # workflow/access/rate_limit.py: one bad client must not lock out an office).
    assert raw.get(CASES, headers=world.auth("alpha", "viewer")).status_code == 200
    # Another address is not affected.
    assert other_address.get(CASES, headers=BAD).status_code == 401
    # The window passes: refused credentials are 401 again, counted afresh.
    clock.now += timedelta(seconds=WINDOW - 20)
    assert raw.get(CASES, headers=BAD).status_code == 401


def test_requests_are_limited_per_user(client: TestClient, world: World, clock: Clock) -> None:
    case = open_case(client)  # request 1 of la.officer
    tag = client.get(f"{CASES}/{case['id']}").headers["etag"]  # 2
    polls = [client.get(f"{CASES}/{case['id']}", headers={"If-None-Match": tag}) for _ in "abc"]
    assert [p.status_code for p in polls] == [304, 304, 304]  # 3-5: polling counts too
    clock.now += timedelta(seconds=59)
    assert_limited(client.get(CASES), "too many requests for your account", 1)
    poll = client.get(f"{CASES}/{case['id']}", headers={"If-None-Match": tag})
    assert_limited(poll, "too many requests for your account", 1)
    # Another user is not affected, nor is the address's failure count.
    assert client.get(CASES, headers=world.auth("alpha", "viewer")).status_code == 200
    assert client.get(CASES, headers=BAD).status_code == 401
    clock.now += timedelta(seconds=1)
    assert client.get(f"{CASES}/{case['id']}", headers={"If-None-Match": tag}).status_code == 304


def test_limits_off(db_url: str, tmp_path: Path, world: World) -> None:
    off = Settings(
        database_url=db_url, data_dir=tmp_path, rate_limit_auth_failures=0, rate_limit_requests=0
    )
    with TestClient(create_app(off)) as test_client:
        assert {test_client.get(CASES, headers=BAD).status_code for _ in range(30)} == {401}
        auth = world.auth("alpha", "viewer")
        assert {test_client.get(CASES, headers=auth).status_code for _ in range(30)} == {200}


def test_health_probes_are_never_limited(client: TestClient) -> None:
    for _ in range(REQUESTS + 1):
        client.get(CASES)
    for _ in range(FAILURES + 1):
        client.get(CASES, headers=BAD)
    assert client.get(CASES).status_code == 429
    assert client.get(CASES, headers=BAD).status_code == 429
    for _ in range(REQUESTS + FAILURES):
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200


def test_going_over_is_logged_once_without_token_or_address(
    raw: TestClient, world: World, caplog: pytest.LogCaptureFixture
) -> None:
    token = world.token("alpha", "viewer")
    with caplog.at_level(logging.WARNING, logger="casereview.rate_limit"):
        for _ in range(FAILURES + 3):
            raw.get(CASES, headers=BAD)
        for _ in range(REQUESTS + 3):
            raw.get(CASES, headers={"Authorization": f"Bearer {token}"})
    lines = [r for r in caplog.records if r.name == "casereview.rate_limit"]
    assert [r.getMessage() for r in lines] == [
        "rate limit reached: failed authentication",
        "rate limit reached: requests per user",
    ]
    fields = [r.fields for r in lines]  # type: ignore[attr-defined]
    assert fields[0]["limit"] == "auth_failures"
    assert fields[0]["client"].startswith("client-")
    assert fields[1] == {"limit": "requests"}
    logged = repr([(r.getMessage(), r.__dict__) for r in lines])
    assert token not in logged
    assert "crv_not-a-token" not in logged
    assert "testclient" not in logged  # the address, pseudonymised


def test_schema_documents_429_wherever_a_credential_is_required(app: FastAPI) -> None:
    paths = app.openapi()["paths"]
    secured = limited = 0
    for path, item in paths.items():
        for method, operation in item.items():
            responses = operation.get("responses", {})
            if "401" not in responses and path != "/api/v1/feeds/{token}.ics":
                assert "429" not in responses, f"{method} {path}"
                continue
            secured += 1
            documented = responses["429"]
            assert PROBLEM_JSON in documented["content"], f"{method} {path}"
            assert "Retry-After" in documented["headers"], f"{method} {path}"
            limited += 1
    assert secured == limited > 50  # the calendar feed (its token in the path) included
    assert "429" not in paths["/healthz"]["get"]["responses"]
    assert "429" not in paths["/readyz"]["get"]["responses"]


def test_web_sign_in_and_session_cookies_share_the_limits(
    raw: TestClient, world: World, database: Database
) -> None:
    for _ in range(FAILURES):
        assert sign_in(raw, "nobody.here", "a wrong password").status_code == 400
    refused = sign_in(raw, "nobody.here", "a wrong password")
    assert refused.status_code == 429
    assert refused.headers["retry-after"] == str(WINDOW)
    assert "Too many failed authentications from your address" in refused.text
    raw.cookies.set("casereview_session", "not-a-session")
    stale = raw.get("/", follow_redirects=False)
    assert stale.status_code == 429  # guessing through the cookie is counted too
    signed_in = sign_in_as(raw, database, "la.officer")
    assert signed_in.status_code == 303  # a correct password is still accepted


def test_unknown_calendar_feed_tokens_count_as_failed_authentication(raw: TestClient) -> None:
    for _ in range(FAILURES):
        assert raw.get("/api/v1/feeds/crf_guess.ics").status_code == 404
    assert_limited(raw.get("/api/v1/feeds/crf_guess.ics"), "failed authentications", WINDOW)
