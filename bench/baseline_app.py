"""The benchmark's baselines: a bench-only FastAPI app, never part of the product.

Started by bench/run.py exactly like the product (uvicorn, one worker, 127.0.0.1, no
access log), with `BENCH_DATABASE_URL` naming the bench database:

- `GET /bare`: a small JSON body, no database (the polling baseline).
- `POST /raw/notification/{case_id}`: the SQL writes of a `record_notification`
  command done with the raw driver (sqlite3 / psycopg), one transaction: lock and
  read the case, update it (state, facts, version), one timeline event, the audit
  chain head and record, the case's deadlines rewritten, one outbox row.
  No authentication, no validation, no rulebook: the floor a full command is
  compared with.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

OUTBOX_DDL = (
    "CREATE TABLE IF NOT EXISTS bench_outbox (id {serial}, case_id VARCHAR(36) NOT NULL, "
    "kind VARCHAR(64) NOT NULL, payload TEXT NOT NULL, created_at VARCHAR(40) NOT NULL)"
)
DEADLINES = (
    "panel_notification",
    "partners_informed",
    "rapid_review_sent",
    "lcspr_published",
    "report_to_panel_before_publication",
    "report_stays_published",
)


class RawDriver:
    """One raw connection per worker thread (the route runs in anyio's thread pool)."""

    def __init__(self, url: str) -> None:
        self.sqlite = url.startswith("sqlite")
        self.url = url
        self.local = threading.local()
        with self.connect() as conn:  # type: ignore[attr-defined]
            serial = "INTEGER PRIMARY KEY" if self.sqlite else "BIGSERIAL PRIMARY KEY"
            conn.execute(OUTBOX_DDL.format(serial=serial))
            if not self.sqlite:
                conn.commit()

    def connect(self) -> Any:
        if self.sqlite:
            conn = sqlite3.connect(
                self.url.split("///", 1)[1], isolation_level=None, check_same_thread=False
            )
            for pragma in ("journal_mode=WAL", "synchronous=FULL", "busy_timeout=5000"):
                conn.execute(f"PRAGMA {pragma}")
            return conn
        conninfo = self.url.replace("postgresql+psycopg://", "postgresql://")
        return psycopg.connect(conninfo)

    def conn(self) -> Any:
        found = getattr(self.local, "conn", None)
        if found is None:
            found = self.local.conn = self.connect()
        return found

    def sql(self, text: str) -> str:
        return text.replace("%s", "?") if self.sqlite else text

    def notification(self, case_id: str) -> int:
        conn = self.conn()
        key: Any = uuid.UUID(case_id).hex if self.sqlite else uuid.UUID(case_id)
        now = datetime.now(UTC)
        stamp: Any = now.replace(tzinfo=None) if self.sqlite else now
        today = date.today()
        x = conn.cursor()
        x.execute("BEGIN IMMEDIATE" if self.sqlite else "BEGIN")
        try:
            lock = "" if self.sqlite else " FOR UPDATE"
            x.execute(self.sql('SELECT * FROM "case" WHERE id = %s' + lock), (key,))
            row = x.fetchone()
            names = [d[0] for d in x.description]
            version = row[names.index("version")]
            x.execute(
                self.sql("SELECT code FROM partnership WHERE id = %s"),
                (row[names.index("partnership_id")],),
            )
            (chain,) = x.fetchone()
            x.execute(
                self.sql(
                    'UPDATE "case" SET state = %s, stage = %s, version = %s, '
                    "notification_date = %s, partners_informed_date = %s, updated_at = %s, "
                    "details = %s WHERE id = %s AND version = %s"
                ),
                (
                    "rapid_review",
                    "rapid_review",
                    version + 1,
                    today,
                    today,
                    stamp,
                    json.dumps({"notification": {"notification_date": str(today)}}),
                    key,
                    version,
                ),
            )
            x.execute(
                self.sql(
                    "INSERT INTO case_event (case_id, sequence, event_type, from_state, "
                    "to_state, occurred_at, actor, payload) VALUES (%s,%s,%s,%s,%s,%s,%s,%s)"
                ),
                (
                    key,
                    version + 1,
                    "record_notification",
                    "notification_due",
                    "rapid_review",
                    stamp,
                    "bench",
                    json.dumps({"notification_date": str(today)}),
                ),
            )
            self._audit(x, chain, key, stamp, version + 1)
            x.execute(self.sql("DELETE FROM case_deadline WHERE case_id = %s"), (key,))
            for name in DEADLINES:
                x.execute(
                    self.sql(
                        "INSERT INTO case_deadline (case_id, name, state, from_date, due_date, "
                        "met_date, on_time) VALUES (%s,%s,%s,%s,%s,%s,%s)"
                    ),
                    (key, name, "pending", today, today + timedelta(days=15), None, None),
                )
            x.execute(
                self.sql(
                    "INSERT INTO bench_outbox (case_id, kind, payload, created_at) "
                    "VALUES (%s,%s,%s,%s)"
                ),
                (case_id, "stage_changed", json.dumps({"to": "rapid_review"}), str(now)),
            )
            x.execute("COMMIT")
        except BaseException:
            x.execute("ROLLBACK")
            raise
        return int(version + 1)

    def _audit(self, x: Any, chain: str, key: Any, stamp: Any, version: int) -> None:
        upsert = (
            "INSERT INTO audit_chain_head (chain, seq, hash) VALUES (%s, 0, %s) "
            "ON CONFLICT (chain) DO NOTHING"
        )
        x.execute(self.sql(upsert), (chain, "0" * 64))
        lock = "" if self.sqlite else " FOR UPDATE"
        x.execute(
            self.sql("SELECT seq, hash FROM audit_chain_head WHERE chain = %s" + lock), (chain,)
        )
        seq, prev = x.fetchone()
        detail = json.dumps({"version": version, "state": "rapid_review"})
        digest = hashlib.sha256(f"{seq + 1}|{prev}|{detail}".encode()).hexdigest()
        x.execute(
            self.sql(
                "INSERT INTO audit_record (chain, seq, occurred_at, actor, action, case_id, "
                "client, outcome, detail, prev_hash, hash) "
                "VALUES (%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s)"
            ),
            (
                chain,
                seq + 1,
                stamp,
                "bench",
                "record_notification",
                key,
                "-",
                "ok",
                detail,
                prev,
                digest,
            ),
        )
        x.execute(
            self.sql("UPDATE audit_chain_head SET seq = %s, hash = %s WHERE chain = %s"),
            (seq + 1, digest, chain),
        )


def create_app() -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    url = os.environ.get("BENCH_DATABASE_URL")
    driver = RawDriver(url) if url else None

    @app.get("/bare")
    async def bare() -> dict[str, Any]:
        return {"status": "ok", "version": 1}

    @app.post("/raw/notification/{case_id}")
    async def raw_notification(case_id: str) -> dict[str, Any]:
        assert driver is not None
        version = await run_in_threadpool(driver.notification, case_id)
        return {"id": case_id, "version": version}

    return app
