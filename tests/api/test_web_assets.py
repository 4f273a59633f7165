"""The web pages' GOV.UK Frontend assets: served locally, and a clear message when missing."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

router = importlib.import_module("api.web.router")


def test_missing_assets_names_the_files_and_the_fix(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(router, "STATIC_DIR", tmp_path)
    problem = router.missing_assets()
    assert problem is not None
    assert "govuk/govuk-frontend.min.css" in problem
    assert "make install" in problem
    (tmp_path / "govuk").mkdir()
    for name in router.GOVUK_ASSETS:
        (tmp_path / name).write_text("/* stand-in */")
    assert router.missing_assets() is None


def test_installed_assets_carry_no_crown_and_no_font_files() -> None:
    """`make install` copies only the CSS and JS: no GDS Transport font, no crest image."""
    govuk = router.STATIC_DIR / "govuk"
    if router.missing_assets():
        pytest.skip("run `make install` first")
    names = sorted(p.name for p in govuk.iterdir())
    assert names == ["govuk-frontend.min.css", "govuk-frontend.min.js"]
