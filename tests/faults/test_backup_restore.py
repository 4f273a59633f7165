"""`casereview backup` while the application writes, `casereview restore` into a fresh
place: the restored database verifies and holds what the backup held."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from api.cli import main
from config.settings import Settings, get_settings
from tests.chaos.checks import check_database
from tests.support.derived import derived_data_problems, move_every_pending_deadline
from tests.support.factories import make_case
from tests.support.postgres import ThrowawayCluster
from tests.support.world import build_world
from workflow.runtime import load_rulebooks, open_database


def _cli(monkeypatch: pytest.MonkeyPatch, url: str, *argv: str) -> int:
    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        return main(list(argv))
    finally:
        get_settings.cache_clear()


def _while_writing(url: str, tmp_path: Path, action: Callable[[], Any]) -> tuple[Any, int]:
    """Run `action` while another thread keeps opening and advancing cases."""
    settings = Settings(database_url=url, data_dir=tmp_path)
    database = open_database(settings)
    world = build_world(database)
    rulebooks = load_rulebooks(settings)
    for _ in range(3):
        make_case(database, rulebooks, world.officer, "rapid_review")
    stop, written = threading.Event(), [0]

    def writer() -> None:
        while not stop.is_set():
            make_case(database, rulebooks, world.officer, "rapid_review")
            written[0] += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = action()
    finally:
        stop.set()
        thread.join(timeout=60)
        database.dispose()
    return result, written[0]


def test_sqlite_backup_while_writing_and_restore(
    sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    live = tmp_path / "live.db"
    with sqlite3.connect(sqlite_template) as src, sqlite3.connect(live) as dst:
        src.backup(dst)
    url, backup_file = f"sqlite:///{live}", tmp_path / "nightly.backup"

    code, written = _while_writing(
        url, tmp_path, lambda: _cli(monkeypatch, url, "backup", str(backup_file))
    )
    assert code == 0
    assert written > 0
    assert _cli(monkeypatch, url, "backup", str(backup_file)) == 1  # no silent overwrite

    restored_url = f"sqlite:///{tmp_path / 'elsewhere' / 'restored.db'}"
    assert _cli(monkeypatch, restored_url, "restore", str(backup_file)) == 0
    assert _cli(monkeypatch, restored_url, "audit", "verify") == 0
    restored = check_database(restored_url)
    assert restored.problems == []
    with sqlite3.connect(backup_file) as conn:
        backed_up = conn.execute('SELECT count(*) FROM "case"').fetchone()[0]
    assert restored.cases == backed_up >= 3
    assert derived_data_problems(restored_url) == []  # trigger-kept columns and tallies
    move_every_pending_deadline(restored_url, date(2030, 1, 2))  # the triggers came along
    assert derived_data_problems(restored_url) == []
    assert check_database(url).cases == 3 + written  # the live database kept every write
    # a database holding data is not overwritten without --force
    assert _cli(monkeypatch, restored_url, "restore", str(backup_file)) == 1
    assert _cli(monkeypatch, restored_url, "restore", "--force", str(backup_file)) == 0


def test_postgresql_backup_while_writing_and_restore(
    pg_cluster: Any, pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if not isinstance(pg_cluster, ThrowawayCluster):
        pytest.skip("pg_dump / pg_restore are looked up beside the throwaway cluster's binaries")
    bindir = (pg_cluster.bindir / "pg_ctl").resolve().parent
    if not (bindir / "pg_dump").exists():
        pytest.skip(f"no pg_dump in {bindir}")
    dump = tmp_path / "nightly.dump"
    argv = ("backup", "--pg-bindir", str(bindir), str(dump))
    code, written = _while_writing(pg_url, tmp_path, lambda: _cli(monkeypatch, pg_url, *argv))
    assert code == 0
    assert written > 0
    fresh = f"r_{uuid.uuid4().hex[:12]}"
    pg_cluster.create_database(fresh)
    try:
        fresh_url = pg_cluster.url(fresh)
        assert _cli(monkeypatch, fresh_url, "restore", "--pg-bindir", str(bindir), str(dump)) == 0
        assert _cli(monkeypatch, fresh_url, "audit", "verify") == 0
        restored = check_database(fresh_url)
        assert restored.problems == []
        assert 3 <= restored.cases <= 3 + written
        assert derived_data_problems(fresh_url) == []  # trigger-kept columns and tallies
        move_every_pending_deadline(fresh_url, date(2030, 1, 2))  # the triggers came along
        assert derived_data_problems(fresh_url) == []
        # restoring onto a database that holds the tables fails and changes nothing
        again = ("restore", "--pg-bindir", str(bindir), str(dump))
        assert _cli(monkeypatch, fresh_url, *again) == 1
        assert check_database(fresh_url).cases == restored.cases
    finally:
        pg_cluster.drop_database(fresh)


def test_postgresql_without_pg_dump_prints_guidance(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing to find
    url = "postgresql+psycopg://app@127.0.0.1:1/casereview"
    assert _cli(monkeypatch, url, "backup", str(tmp_path / "x.dump")) == 1
    err = capsys.readouterr().err
    assert "pg_dump --format=custom" in err
    assert "pg_restore" in err
