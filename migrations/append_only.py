"""Database triggers that make a table append-only (refuse UPDATE and DELETE).

Used by the dated revisions; the ORM refuses such edits too (workflow/storage/models/).
"""

from __future__ import annotations


def create_sql(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"""CREATE TRIGGER trg_{table}_no_{verb.lower()} BEFORE {verb} ON {table}
                    BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END"""
            for verb in ("UPDATE", "DELETE")
        ]
    return [
        """CREATE OR REPLACE FUNCTION refuse_append_only_change() RETURNS trigger
           LANGUAGE plpgsql AS $$ BEGIN
             RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
           END $$""",
        f"""CREATE TRIGGER trg_{table}_append_only BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION refuse_append_only_change()""",
    ]


def drop_sql(table: str, dialect: str) -> list[str]:
    if dialect == "sqlite":
        return [
            f"DROP TRIGGER IF EXISTS trg_{table}_no_update",
            f"DROP TRIGGER IF EXISTS trg_{table}_no_delete",
        ]
    return [f"DROP TRIGGER IF EXISTS trg_{table}_append_only ON {table}"]
