"""A calendar feed's token never reaches the access log, whatever the method or the
status: 405, the 307 of a trailing slash, a 413 (issue 13, item 8). SQLite and
PostgreSQL."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from httpx import Response

from api.observability import JsonFormatter, redact
from tests.support.world import World


@pytest.fixture
def feed_url(raw: TestClient, world: World) -> str:
    created = raw.post(
        "/api/v1/feeds",
        json={"partnership": "alpha", "label": "Team"},
        headers=world.auth("alpha", "viewer"),
    )
    assert created.status_code == 201, created.text
    url: str = created.json()["url"]
    return url


def _requests(url: str) -> dict[str, tuple[int, Callable[[TestClient], Response]]]:
    big = b"x" * (1024 * 1024 + 1)
    return {
        "HEAD": (405, lambda c: c.head(url)),
        "OPTIONS": (405, lambda c: c.options(url)),
        "POST": (405, lambda c: c.post(url, json={})),
        "PUT": (405, lambda c: c.put(url, json={})),
        "DELETE": (405, lambda c: c.delete(url)),
        "GET with a trailing slash": (307, lambda c: c.get(url + "/", follow_redirects=False)),
        "POST over 1 MB": (413, lambda c: c.post(url, content=big)),
        "GET with a query": (200, lambda c: c.get(url, params={"x": "1"})),
    }


def test_the_token_is_redacted_for_every_method_and_status(
    raw: TestClient, feed_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    token = feed_url.removeprefix("/api/v1/feeds/").removesuffix(".ics")
    for name, (status, send) in _requests(feed_url).items():
        caplog.clear()
        with caplog.at_level(logging.INFO):
            response = send(raw)
        assert response.status_code == status, name
        (line,) = [r for r in caplog.records if r.name == "casereview.access"]
        assert line.fields["path"].startswith("/api/v1/feeds/(token).ics"), name  # type: ignore[attr-defined]
        assert token not in JsonFormatter().format(line), name
        server = [r for r in caplog.records if not r.name.startswith(("httpx", "httpcore"))]
        unformatted = " ".join(f"{r.getMessage()} {getattr(r, 'fields', '')}" for r in server)
        assert token not in unformatted, name  # what any handler would write
        if response.content and response.headers["content-type"] == "application/problem+json":
            assert token not in response.json()["instance"], name


def test_a_token_in_any_log_line_is_redacted() -> None:
    token = "crf_" + "Ab9-_" * 9
    record = logging.LogRecord(
        "api", logging.ERROR, __file__, 1, "unhandled RuntimeError on GET %s", (token,), None
    )
    record.fields = {"path": f"/api/v1/feeds/{token}.ics/"}
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "unhandled RuntimeError on GET (token)"
    assert line["path"] == "/api/v1/feeds/(token).ics/"
    assert redact(f"/api/v1/feeds/{token}.ics") == "/api/v1/feeds/(token).ics"
    assert redact("/api/v1/cases") == "/api/v1/cases"
