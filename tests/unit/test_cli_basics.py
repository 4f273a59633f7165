"""The command line as a new operator meets it: help, version, a missing database."""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from api.cli import build_parser, main
from config.settings import get_settings


@pytest.fixture
def empty_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.delenv("CASEREVIEW_DATABASE_URL", raising=False)
    monkeypatch.setenv("CASEREVIEW_DATA_DIR", str(tmp_path / "nowhere"))
    get_settings.cache_clear()
    yield tmp_path / "nowhere"
    get_settings.cache_clear()


@pytest.mark.parametrize("argv", [["users", "list"], ["setup", "--if-needed"], ["sweep"]])
def test_a_command_refuses_a_missing_database_and_says_where_it_looked(
    empty_data_dir: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert str(empty_data_dir / "casereview.db") in err
    assert "CASEREVIEW_DATA_DIR" in err
    assert "casereview migrate" in err
    assert not (empty_data_dir / "casereview.db").exists()  # nothing created on the way


def test_migrate_still_creates_the_database(
    empty_data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert (empty_data_dir / "casereview.db").exists()
    assert main(["users", "list"]) == 0


def test_version_comes_from_the_package_metadata(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip() == f"casereview {metadata.version('casereview')}"


def test_top_level_help_is_for_operators(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    assert "HTTP routes" not in out  # the module docstring is a developer's note
    assert "CASEREVIEW_DATA_DIR" in out
    assert "exit codes" in out


def _parsers(
    parser: argparse.ArgumentParser, name: str
) -> Iterator[tuple[str, argparse.ArgumentParser, dict[str, str | None]]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {choice.dest: choice.help for choice in action._choices_actions}
            for sub_name, sub in action.choices.items():
                yield f"{name} {sub_name}", sub, helps
                yield from _parsers(sub, f"{name} {sub_name}")


def test_every_command_and_option_has_help() -> None:
    missing = []
    for name, parser, helps in _parsers(build_parser(), "casereview"):
        if not helps.get(name.rsplit(" ", 1)[1]):
            missing.append(name)
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                continue
            if not action.help:
                missing.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    assert missing == []
