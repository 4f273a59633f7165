"""The short crash run for CI (the long one: `make chaos`): SIGKILL the server's
process group three times under load; no acknowledged write may be lost, nothing may
be written twice, and the audit trail must verify."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.chaos.ledger import run
from tests.chaos.setup import seed

SECONDS = float(os.environ.get("CASEREVIEW_CHAOS_SECONDS", "30"))
KILLS = int(os.environ.get("CASEREVIEW_CHAOS_KILLS", "3"))


def test_sigkill_under_load_loses_and_duplicates_nothing(
    pg_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = run(pg_url, seed(pg_url), tmp_path, seconds=SECONDS, kills=KILLS)
    with capsys.disabled():
        print(f"\ncrash run on {report.cases} cases:\n{report.table()}")
    assert report.problems == []
    assert report.kills == KILLS
    assert report.acknowledged > 0
    assert report.found == report.acknowledged
    assert report.cases == report.create_keys
