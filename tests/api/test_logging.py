"""Logs carry request, principal and case ids, and never personal data."""

from __future__ import annotations

import json
import logging

import pytest
from fastapi.testclient import TestClient

from api.observability import JsonFormatter
from tests.api.helpers import open_case


def test_access_log_has_ids_and_no_personal_data(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    case = open_case(client)
    with caplog.at_level(logging.INFO, logger="casereview.access"):
        client.get(f"/api/v1/cases/{case['id']}", headers={"X-Request-ID": "req-123"})
    lines = [
        json.loads(JsonFormatter().format(r))
        for r in caplog.records
        if r.name == "casereview.access"
    ]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == "req-123"
    assert line["case_id"] == case["id"]
    assert line["principal_id"]
    assert (line["method"], line["status"]) == ("GET", 200)
    text = json.dumps(line)
    assert "Child A" not in text
    assert "crt_" not in text
