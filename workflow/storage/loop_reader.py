"""PostgreSQL reads on the event loop: a few psycopg AsyncConnections kept for the
one-statement version checks of conditional GETs (`Services.stamp`, api/deps.py).

Why not the Engine: a pooled read costs a worker-thread hop and three round trips
(the pre-ping `SELECT 1`, the statement, the `ROLLBACK` of the reset on return);
here it is one round trip on the event loop, and a statement run often on a
connection is prepared by psycopg (`prepare_threshold`, default 5).

Contract:
- Autocommit: each statement is its own transaction and sees every commit made
  before it began (a version read here is never older than the last commit).
- The sessions carry the engine's settings (`pg_connect_args`: connect timeout,
  `statement_timeout`, `lock_timeout`).
- A connection found broken (cut while idle, the server restarted it or
  `pg_terminate_backend`) is closed and the read retried once on a fresh connection:
  the reads are idempotent, so a dead idle connection never reaches the client as an
  error. A failure on the fresh connection, a failed connect, a statement timeout or a
  read outlasting `bound_s` (waiting for a free connection included) raises
  `DatabaseUnavailable`; any other driver error propagates unchanged.
- At most `size` connections, opened on first need; a read waits for a free one.
- For one event loop (the web worker's); `close()` at shutdown.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import psycopg
from sqlalchemy import Engine
from sqlalchemy.sql import ClauseElement

from workflow.storage.database import DatabaseUnavailable, pg_connect_args

log = logging.getLogger(__name__)
APPLICATION_NAME = "casereview-loop-reader"  # how its sessions show in pg_stat_activity
Row = tuple[Any, ...]


class PgLoopReader:
    def __init__(self, connect_kwargs: Mapping[str, Any], *, size: int, bound_s: float) -> None:
        self.connect_kwargs = dict(connect_kwargs)
        self.size = size
        self.bound_s = bound_s
        self._idle: list[psycopg.AsyncConnection[Row]] = []
        self._slots = asyncio.Semaphore(size)
        self._sql: dict[int, tuple[ClauseElement, str]] = {}
        self._dialect: Any = None

    @classmethod
    def for_engine(
        cls,
        engine: Engine,
        *,
        size: int,
        connect_timeout_s: int,
        statement_timeout_ms: int,
        lock_timeout_ms: int,
    ) -> PgLoopReader:
        """A reader on the engine's database with the engine's session settings; a read
        is bounded by two connects (the retry) plus the statement timeout."""
        _args, params = engine.dialect.create_connect_args(engine.url)
        params.update(pg_connect_args(connect_timeout_s, statement_timeout_ms, lock_timeout_ms))
        params["application_name"] = APPLICATION_NAME
        statement_s = statement_timeout_ms / 1000 if statement_timeout_ms else 30.0
        reader = cls(params, size=size, bound_s=2 * connect_timeout_s + statement_s + 1)
        reader._dialect = engine.dialect
        return reader

    def sql(self, statement: ClauseElement) -> str:
        """The statement compiled once for PostgreSQL (psycopg's `%(name)s` parameters)."""
        known = self._sql.get(id(statement))
        if known is None or known[0] is not statement:
            known = (statement, str(statement.compile(dialect=self._dialect)))
            self._sql[id(statement)] = known
        return known[1]

    async def one(self, statement: ClauseElement, params: Mapping[str, Any]) -> Row | None:
        """The first row of a read-only statement (driver values), or None."""
        try:
            async with asyncio.timeout(self.bound_s), self._slots:
                return await self._one(self.sql(statement), params)
        except TimeoutError as exc:
            log.warning("database unavailable: no answer within %.1f s", self.bound_s)
            raise _unavailable() from exc
        except psycopg.OperationalError as exc:
            # type and SQLSTATE only: a driver message can quote values
            log.warning(
                "database unavailable: OperationalError (%s, SQLSTATE %s)",
                type(exc).__name__,
                exc.sqlstate,
            )
            raise _unavailable() from exc

    async def _one(self, sql: str, params: Mapping[str, Any]) -> Row | None:
        kept = self._idle.pop() if self._idle else None
        conn = kept or await self._connect()
        try:
            try:
                row = await _fetch(conn, sql, params)
            except psycopg.OperationalError:
                if kept is None or not conn.broken:
                    raise
                log.info("a kept PostgreSQL connection was broken; retrying on a new one")
                await conn.close()
                conn = await self._connect()
                row = await _fetch(conn, sql, params)
        except BaseException:
            # never reused after an error or a cancellation (a timeout can leave it
            # mid-statement; a prepared statement can be stale after a schema change)
            await conn.close()
            raise
        self._idle.append(conn)
        return row

    async def _connect(self) -> psycopg.AsyncConnection[Row]:
        return await psycopg.AsyncConnection.connect(autocommit=True, **self.connect_kwargs)

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await conn.close()


async def _fetch(
    conn: psycopg.AsyncConnection[Row], sql: str, params: Mapping[str, Any]
) -> Row | None:
    cursor = await conn.execute(sql, params)
    return await cursor.fetchone()


def _unavailable() -> DatabaseUnavailable:
    return DatabaseUnavailable("the database is unavailable or busy; try again shortly")
