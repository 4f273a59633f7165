"""Engines and transactions. Nothing here connects until asked.

`Database.write(fn)` runs `fn(session)` in one transaction and commits it; it is
the only place that commits. On SQLite the transaction starts with
`BEGIN IMMEDIATE` (writers queue on the busy timeout instead of failing at
commit); on PostgreSQL it runs at READ COMMITTED and a serialisation or
deadlock failure (SQLSTATE 40001 / 40P01) is retried a bounded number of times.

Failures of the database itself (unreachable, connection cut, a statement or lock
timeout, SQLite locked beyond its busy timeout, no free pooled connection in time)
become `DatabaseUnavailable` (HTTP 503 with Retry-After); every PostgreSQL
connection carries a connect timeout, `statement_timeout` and `lock_timeout`, so
such a failure arrives within a bounded time. Anything else propagates unchanged.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

from workflow.core.errors import DomainError

T = TypeVar("T")
log = logging.getLogger(__name__)
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


class DatabaseUnavailable(DomainError):
    """The database could not be reached or stayed locked; try again later."""


def make_engine(
    url: str,
    *,
    pool_size: int = 20,
    max_overflow: int = 10,
    pool_timeout: float = 10.0,
    busy_timeout_ms: int = 5000,
    connect_timeout_s: int = 5,
    statement_timeout_ms: int = 10_000,
    lock_timeout_ms: int = 5_000,
) -> Engine:
    """An Engine configured for this application's transaction rules.

    PostgreSQL connections get `connect_timeout`, and per session `statement_timeout`,
    `lock_timeout` (0 = none) and `synchronous_commit=on`: an acknowledged write is
    on disk even if the server's default was weakened."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            # Every connection kept: an overflow connection is closed on return and
            # reopened under the next burst (PRAGMAs and schema read again); an open
            # SQLite connection costs only a file handle. One more than on PostgreSQL:
            # the web app keeps one for its event loop's reads (api/deps.py LoopReader).
            pool_size=pool_size + max_overflow + 1,
            max_overflow=0,
            pool_timeout=pool_timeout,
            hide_parameters=True,  # values are personal data: keep them out of errors and logs
            connect_args={"check_same_thread": False},
        )
        _configure_sqlite(engine, busy_timeout_ms)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        hide_parameters=True,
        pool_pre_ping=True,  # a connection cut while idle is replaced, not used
        isolation_level="READ COMMITTED",
        connect_args=pg_connect_args(connect_timeout_s, statement_timeout_ms, lock_timeout_ms),
    )


def pg_connect_args(
    connect_timeout_s: int, statement_timeout_ms: int, lock_timeout_ms: int
) -> dict[str, Any]:
    """psycopg connect arguments of every application session (the engine's and the
    event loop reader's, workflow/storage/loop_reader.py)."""
    return {
        "connect_timeout": int(connect_timeout_s),
        "options": session_options(statement_timeout_ms, lock_timeout_ms),
    }


def session_options(statement_timeout_ms: int, lock_timeout_ms: int) -> str:
    """libpq `options`: the server settings every application session starts with."""
    return (
        f"-c statement_timeout={int(statement_timeout_ms)} "
        f"-c lock_timeout={int(lock_timeout_ms)} -c synchronous_commit=on"
    )


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we issue BEGIN ourselves (below)
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")  # an acknowledged write survives power loss
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        mode = conn.get_execution_options().get("sqlite_begin", "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


def _sqlstate(exc: DBAPIError) -> str | None:
    return getattr(exc.orig, "sqlstate", None)


class Database:
    """An engine, its session factory and the transaction helpers."""

    def __init__(self, engine: Engine, *, write_retries: int = 3) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False, autoflush=False)
        self.write_retries = write_retries
        self.is_sqlite = engine.dialect.name == "sqlite"

    def write(self, fn: Callable[[Session], T]) -> T:
        """Run `fn` in one write transaction and commit; roll back on any error.

        A DomainError raised by `fn` leaves nothing changed and propagates."""
        attempt = 0
        while True:
            try:
                with self.sessions() as session:
                    if self.is_sqlite:
                        session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
                    result = fn(session)
                    session.commit()
                    return result
            except DBAPIError as exc:
                if _sqlstate(exc) in RETRYABLE_SQLSTATES and attempt < self.write_retries:
                    attempt += 1
                    log.info(
                        "retrying write after SQLSTATE %s (attempt %d)", _sqlstate(exc), attempt
                    )
                    # a short random pause, so the transactions that collided do not again
                    time.sleep(random.uniform(0, 0.02 * attempt))  # noqa: S311
                    continue
                raise self._translate(exc) from exc
            except PoolTimeout as exc:
                raise _pool_exhausted() from exc

    def read(self, fn: Callable[[Session], T]) -> T:
        """Run `fn` in a read-only transaction (rolled back at the end)."""
        try:
            with self.sessions() as session:
                return fn(session)
        except DBAPIError as exc:
            raise self._translate(exc) from exc
        except PoolTimeout as exc:
            raise _pool_exhausted() from exc

    def read_snapshot(self, fn: Callable[[Session], T]) -> T:
        """Like `read`, but every statement sees one snapshot (REPEATABLE READ on
        PostgreSQL; a SQLite read transaction already does)."""
        try:
            with self.sessions() as session:
                if not self.is_sqlite:
                    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                return fn(session)
        except DBAPIError as exc:
            raise self._translate(exc) from exc
        except PoolTimeout as exc:
            raise _pool_exhausted() from exc

    def _translate(self, exc: DBAPIError) -> Exception:
        if isinstance(exc, OperationalError) or exc.connection_invalidated:
            # type and SQLSTATE only: a driver message can quote values
            log.warning(
                "database unavailable: %s (SQLSTATE %s)", type(exc.orig).__name__, _sqlstate(exc)
            )
            return DatabaseUnavailable("the database is unavailable or busy; try again shortly")
        return exc

    def dispose(self) -> None:
        self.engine.dispose()


def _pool_exhausted() -> DatabaseUnavailable:
    log.warning("no pooled database connection became free in time")
    return DatabaseUnavailable("the database is busy; try again shortly")
