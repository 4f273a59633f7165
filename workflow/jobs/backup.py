"""Back up and restore the database (`casereview backup | restore`).

SQLite: SQLite's online backup API copies one consistent snapshot while the
application keeps writing (in WAL mode readers and the backup never block writers);
the copy is written beside the target and renamed into place only when complete and
checked. A restore copies a checked backup into the configured file with the same
API (so a stale `-wal` file cannot corrupt it) and refuses to overwrite a database
that holds data unless forced; stop the application first.

PostgreSQL: `pg_dump --format=custom` and `pg_restore`, when they are on PATH (or in
`pg_bindir`); the connection settings go through PG* environment variables so the
password never appears on a command line. Without them `PgToolsMissing` carries the
commands to run by hand.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import URL, make_url

COUNTED_TABLES = ("case", "case_event", "audit_record", "app_user")


class BackupError(Exception):
    """A backup or restore could not be made; nothing was overwritten."""


class PgToolsMissing(BackupError):
    """pg_dump / pg_restore not found; the message says what to run instead."""


@dataclass(frozen=True)
class BackupSummary:
    path: Path
    counts: dict[str, int]  # rows per table of COUNTED_TABLES in the backup

    def describe(self) -> str:
        rows = ", ".join(f"{n} {t}" for t, n in self.counts.items())
        return f"{self.path}: {rows}" if rows else str(self.path)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _open(path: Path, *, read_only: bool = False) -> closing[sqlite3.Connection]:
    if read_only:
        return closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    return closing(sqlite3.connect(path))


def sqlite_counts(path: Path) -> dict[str, int]:
    """Rows per counted table of the SQLite file at `path` (read-only)."""
    with _open(path, read_only=True) as conn:
        return {
            t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # noqa: S608
            for t in COUNTED_TABLES
        }


def _check_sqlite_file(path: Path) -> None:
    try:
        with _open(path, read_only=True) as conn:
            result = conn.execute("PRAGMA integrity_check").fetchone()[0]
            has_schema = conn.execute(
                "SELECT count(*) FROM sqlite_master WHERE name = 'alembic_version'"
            ).fetchone()[0]
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a usable SQLite database: {exc}") from exc
    if result != "ok":
        raise BackupError(f"{path} failed its integrity check: {result}")
    if not has_schema:
        raise BackupError(f"{path} is not a casereview database (no alembic_version)")


def backup_sqlite(url: str, target: Path, *, force: bool = False) -> BackupSummary:
    source = sqlite_path(url)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; choose another path or pass --force")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        with _open(source) as src, _open(partial) as dst:
            src.backup(dst)  # one step: one consistent snapshot
        _check_sqlite_file(partial)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupSummary(target, sqlite_counts(target))


def _holds_data(path: Path) -> bool:
    if not path.exists() or path.stat().st_size == 0:
        return False
    with _open(path, read_only=True) as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if not tables & set(COUNTED_TABLES):
            return bool(tables - {"alembic_version"})
        return any(
            conn.execute(f'SELECT 1 FROM "{t}" LIMIT 1').fetchone()  # noqa: S608
            for t in COUNTED_TABLES
            if t in tables
        )


def restore_sqlite(url: str, backup: Path, *, force: bool = False) -> BackupSummary:
    target = sqlite_path(url)
    if not backup.is_file():
        raise BackupError(f"no backup at {backup}")
    _check_sqlite_file(backup)
    if _holds_data(target) and not force:
        raise BackupError(f"{target} already holds data; pass --force to replace it")
    target.parent.mkdir(parents=True, exist_ok=True)
    with _open(backup, read_only=True) as src, _open(target) as dst:
        src.backup(dst)
    return BackupSummary(target, sqlite_counts(target))


# --------------------------------------------------------------------------- PostgreSQL


def _pg_env(url: URL) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
    for var, value in (
        ("PGHOST", url.host),
        ("PGPORT", str(url.port) if url.port else None),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value:
            env[var] = str(value)
    return env


def _pg_tool(name: str, pg_bindir: Path | None) -> str | None:
    if pg_bindir is not None and (pg_bindir / name).exists():
        return str(pg_bindir / name)
    return shutil.which(name)


def _run(cmd: list[str], env: dict[str, str]) -> None:
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if proc.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed ({proc.returncode}): {proc.stderr.strip()}")


PG_GUIDANCE = """\
pg_dump / pg_restore were not found on PATH (pass --pg-bindir DIR to point at them).
Back up by hand, as a role that can read every table (e.g. the schema owner):
    pg_dump --format=custom --file {path} "postgresql://USER@HOST:PORT/DBNAME"
Restore into an empty database, then check the audit trail:
    pg_restore --exit-on-error --single-transaction --dbname "postgresql://..." {path}
    casereview audit verify
"""


def backup_postgresql(
    url: str, target: Path, *, force: bool = False, pg_bindir: Path | None = None
) -> BackupSummary:
    pg_dump = _pg_tool("pg_dump", pg_bindir)
    if pg_dump is None:
        raise PgToolsMissing(PG_GUIDANCE.format(path=target))
    if target.exists() and not force:
        raise BackupError(f"{target} exists; choose another path or pass --force")
    partial = target.with_name(target.name + ".partial")
    try:
        _run([pg_dump, "--format=custom", "--file", str(partial)], _pg_env(make_url(url)))
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
    return BackupSummary(target, {})


def restore_postgresql(
    url: str, backup: Path, *, force: bool = False, pg_bindir: Path | None = None
) -> BackupSummary:
    """Restore into the configured database: an empty one (a database that has the
    tables already makes pg_restore fail, in one transaction, changing nothing), or,
    with force, dropping and recreating what the backup holds."""
    pg_restore = _pg_tool("pg_restore", pg_bindir)
    if pg_restore is None:
        raise PgToolsMissing(PG_GUIDANCE.format(path=backup))
    if not backup.is_file():
        raise BackupError(f"no backup at {backup}")
    env = _pg_env(make_url(url))
    cmd = [pg_restore, "--exit-on-error", "--single-transaction", "--dbname", env["PGDATABASE"]]
    if force:
        cmd += ["--clean", "--if-exists"]
    _run([*cmd, str(backup)], env)
    return BackupSummary(backup, {})
