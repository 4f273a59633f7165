"""The property tests' database: as tests/support/db_plugin.py makes it, except that the
SQLite copy lives in memory-backed /dev/shm where there is one. Each machine commits
hundreds of times per example, and with `synchronous=FULL` every commit waits for the
disk; on tmpfs the same SQLite code runs without that wait (PostgreSQL's throwaway
cluster already runs with fsync off)."""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.settings import Settings
from tests.support.db_plugin import BACKENDS

SHM = Path("/dev/shm")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param != "sqlite":
        yield request.getfixturevalue("_postgres_db_url")
        return
    template: Path = request.getfixturevalue("sqlite_template")
    folder = Path(tempfile.mkdtemp(prefix="props-", dir=SHM if SHM.is_dir() else tmp_path))
    try:
        target = folder / "casereview.db"
        with sqlite3.connect(template) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        yield f"sqlite:///{target}"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def _postgres_db_url(request: pytest.FixtureRequest) -> Iterator[str]:
    cluster = request.getfixturevalue("pg_cluster")
    template_name = request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:16]}"
    cluster.create_database(name, template=template_name)
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """The clock stands still through a whole machine run (one rate-limit window) while
    one user sends hundreds of requests: the limits stay on but out of reach."""
    return Settings(database_url=db_url, data_dir=tmp_path, rate_limit_requests=10**9)
