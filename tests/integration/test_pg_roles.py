"""docs/postgresql-roles.sql gives an application role that cannot edit the audit trail."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from workflow.storage.models.base import Base

SQL = Path(__file__).resolve().parents[2] / "docs" / "postgresql-roles.sql"


@pytest.mark.postgres
def test_app_role_cannot_update_or_delete_append_only_rows(
    pg_cluster: Any, pg_template: str
) -> None:
    suffix = uuid.uuid4().hex[:8]
    name = f"roles_{suffix}"
    pg_cluster.create_database(name, template=pg_template)
    script = (
        SQL.read_text()
        .replace("casereview_owner", f"cr_owner_{suffix}")
        .replace("casereview_app", f"cr_app_{suffix}")
    )
    try:
        with psycopg.connect(pg_cluster.conninfo(name), autocommit=True) as admin:
            admin.execute(script)  # type: ignore[arg-type]
            admin.execute("""INSERT INTO audit_record (chain, seq, occurred_at, actor, action,
                             client, outcome, detail, prev_hash, hash) VALUES ('x', 1, now(),
                             'a', 'b', 'c', 'ok', '{}', 'p', 'h')""")
        app = pg_cluster.conninfo(name).replace("user=postgres", f"user=cr_app_{suffix}")
        with psycopg.connect(app, autocommit=True) as conn:
            assert conn.execute("SELECT current_user").fetchone() == (f"cr_app_{suffix}",)
            conn.execute("""INSERT INTO audit_record (chain, seq, occurred_at, actor, action,
                            client, outcome, detail, prev_hash, hash) VALUES ('x', 2, now(),
                            'a', 'b', 'c', 'ok', '{}', 'p', 'h')""")
            assert conn.execute("SELECT count(*) FROM audit_record").fetchone() == (2,)
            for statement in (
                "UPDATE audit_record SET actor = 'z'",
                "DELETE FROM audit_record",
                "DELETE FROM case_event",
                "TRUNCATE audit_record",
                "ALTER TABLE audit_record DISABLE TRIGGER USER",
            ):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(statement)  # type: ignore[arg-type]
            conn.execute("UPDATE case_deadline SET state = state")  # ordinary tables: allowed
    finally:
        pg_cluster.drop_database(name)
        with psycopg.connect(pg_cluster.conninfo("postgres"), autocommit=True) as admin:
            for role in (f"cr_app_{suffix}", f"cr_owner_{suffix}"):
                admin.execute(f'DROP OWNED BY "{role}"')  # type: ignore[arg-type]
                admin.execute(f'DROP ROLE "{role}"')  # type: ignore[arg-type]


@pytest.mark.postgres
def test_app_role_reaches_every_table_and_edits_no_append_only_one(
    pg_cluster: Any, pg_template: str
) -> None:
    """A table added by a migration but forgotten in the script would fail at run time
    for the app role only; the append-only ones are those carrying the refusing trigger."""
    suffix = uuid.uuid4().hex[:8]
    name = f"roles_{suffix}"
    app_role = f"cr_app_{suffix}"
    pg_cluster.create_database(name, template=pg_template)
    script = (
        SQL.read_text()
        .replace("casereview_owner", f"cr_owner_{suffix}")
        .replace("casereview_app", app_role)
    )
    try:
        with psycopg.connect(pg_cluster.conninfo(name), autocommit=True) as admin:
            admin.execute(script)  # type: ignore[arg-type]
            tables = {t.name for t in Base.metadata.sorted_tables}
            append_only = {
                row[0]
                for row in admin.execute(
                    "SELECT tgrelid::regclass::text FROM pg_trigger "
                    "WHERE tgname LIKE 'trg_%_append_only'"
                )
            }
            append_only = {t.strip('"') for t in append_only}
            assert append_only <= tables
            assert len(append_only) >= 5

            def can(table: str, privilege: str) -> bool:
                row = admin.execute(
                    "SELECT has_table_privilege(%s, %s, %s)",
                    (app_role, f'public."{table}"', privilege),
                ).fetchone()
                return bool(row and row[0])

            # Kept by SECURITY DEFINER triggers (migrations 0007, 0009): the app only reads.
            trigger_kept = {"case_tally", "case_stage_tally"}
            for kept in trigger_kept:
                assert not can(kept, "INSERT")
                assert not can(kept, "UPDATE")
            missing = sorted(
                f"{t}:{p}"
                for t in tables
                for p in ("SELECT", "INSERT")
                if not can(t, p) and not (t in trigger_kept and p == "INSERT")
            )
            assert missing == []
            writable = sorted(
                f"{t}:{p}" for t in append_only for p in ("UPDATE", "DELETE") if can(t, p)
            )
            assert writable == []
            stuck = sorted(t for t in tables - append_only - trigger_kept if not can(t, "UPDATE"))
            assert stuck == []
    finally:
        pg_cluster.drop_database(name)
        with psycopg.connect(pg_cluster.conninfo("postgres"), autocommit=True) as admin:
            for role in (app_role, f"cr_owner_{suffix}"):
                admin.execute(f'DROP OWNED BY "{role}"')  # type: ignore[arg-type]
                admin.execute(f'DROP ROLE "{role}"')  # type: ignore[arg-type]
