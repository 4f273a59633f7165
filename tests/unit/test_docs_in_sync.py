"""Generated documentation matches the code it is generated from."""

from __future__ import annotations

from pathlib import Path

import pytest

from api.cli import main

DOCS = Path(__file__).resolve().parents[2] / "docs"


def test_permissions_doc_is_generated_from_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["permissions"]) == 0
    assert (DOCS / "permissions.md").read_text() == capsys.readouterr().out, (
        "docs/permissions.md is stale: run `casereview permissions > docs/permissions.md`"
    )
