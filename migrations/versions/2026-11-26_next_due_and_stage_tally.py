"""next due date on the case, and cases per (partnership, stage), kept by triggers

The overdue list probed every case, newest first, for an overdue pending deadline
(an EXISTS per case): at 100k it probed ~5,800 recent cases whose deadlines were
not yet due. `case.next_due_date` (the earliest due date of the case's pending
deadlines, NULL without one) makes "overdue" a comparison on the case row, read
from an index with the list's keyset order: `(created_at, id, next_due_date)`
(replacing `(created_at, id)`).

The dashboard counted cases by stage over every visible case (an index-only scan
of 100k entries nationally); `case_stage_tally` keeps that count per partnership
and stage, so a dashboard over whole partnerships reads at most a row per
(partnership, stage).

Both are written only by database triggers, in the transaction that writes
`case_deadline` or `case`, whoever writes them (commands, imports, SQL by hand).
A PostgreSQL restore (pg_restore) loads the stored values and creates the
triggers after the data; a SQLite backup is a page copy.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-26 23:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# ---------------------------------------------------------------- next_due_date
NEXT_DUE = (
    "(SELECT min(d.due_date) FROM case_deadline d "
    "WHERE d.case_id = {case_id} AND d.state = 'pending')"
)
BACKFILL_NEXT_DUE = 'UPDATE "case" SET next_due_date = ' + NEXT_DUE.format(  # noqa: S608
    case_id='"case".id'
)


def _pg_next_due_function(name: str, changed: str) -> str:
    """A statement trigger's function: recompute the cases of the changed rows."""
    return f"""
CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
  UPDATE "case" c SET next_due_date = t.next_due
  FROM (SELECT ids.case_id, {NEXT_DUE.format(case_id="ids.case_id")} AS next_due
        FROM (SELECT DISTINCT case_id FROM ({changed}) AS rows) AS ids) AS t
  WHERE c.id = t.case_id AND c.next_due_date IS DISTINCT FROM t.next_due;
  RETURN NULL;
END $$
"""  # noqa: S608 (constants only)


PG_NEXT_DUE = (
    _pg_next_due_function("case_next_due_insert", "SELECT case_id FROM new_rows"),
    _pg_next_due_function("case_next_due_delete", "SELECT case_id FROM old_rows"),
    _pg_next_due_function(
        "case_next_due_update",
        "SELECT case_id FROM old_rows UNION SELECT case_id FROM new_rows",
    ),
    "CREATE TRIGGER case_next_due_insert AFTER INSERT ON case_deadline "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION case_next_due_insert()",
    "CREATE TRIGGER case_next_due_delete AFTER DELETE ON case_deadline "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION case_next_due_delete()",
    "CREATE TRIGGER case_next_due_update AFTER UPDATE ON case_deadline "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
    "EXECUTE FUNCTION case_next_due_update()",
)
_SQLITE_SET = 'UPDATE "case" SET next_due_date = {value} WHERE id = {row}.case_id;'
SQLITE_NEXT_DUE = (
    # only a pending row can move the earliest pending due date
    "CREATE TRIGGER case_next_due_insert AFTER INSERT ON case_deadline "
    "WHEN NEW.state = 'pending' BEGIN "
    + _SQLITE_SET.format(value=NEXT_DUE.format(case_id="NEW.case_id"), row="NEW")
    + " END",
    "CREATE TRIGGER case_next_due_delete AFTER DELETE ON case_deadline "
    "WHEN OLD.state = 'pending' BEGIN "
    + _SQLITE_SET.format(value=NEXT_DUE.format(case_id="OLD.case_id"), row="OLD")
    + " END",
    "CREATE TRIGGER case_next_due_update AFTER UPDATE ON case_deadline BEGIN "
    + _SQLITE_SET.format(value=NEXT_DUE.format(case_id="OLD.case_id"), row="OLD")
    + " "
    + _SQLITE_SET.format(value=NEXT_DUE.format(case_id="NEW.case_id"), row="NEW")
    + " END",
)

# ---------------------------------------------------------------- case_stage_tally
_STAGE_ADD = (
    "INSERT INTO case_stage_tally (partnership_id, stage, cases) "
    "VALUES ({row}.partnership_id, {row}.stage, 1) "
    "ON CONFLICT (partnership_id, stage) DO UPDATE SET cases = case_stage_tally.cases + 1;"
)
_STAGE_REMOVE = (
    "UPDATE case_stage_tally SET cases = cases - 1 "
    "WHERE partnership_id = {row}.partnership_id AND stage = {row}.stage;"
)
PG_STAGE = (
    f"""
CREATE FUNCTION case_stage_tally_apply() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN {_STAGE_REMOVE.format(row="OLD")} END IF;
  IF TG_OP = 'UPDATE' THEN {_STAGE_ADD.format(row="NEW")} END IF;
  RETURN NULL;
END $$
""",
    # inserts once per statement (imports and bulk loads insert many cases at once)
    """
CREATE FUNCTION case_stage_tally_insert() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
  INSERT INTO case_stage_tally (partnership_id, stage, cases)
  SELECT partnership_id, stage, count(*) FROM inserted GROUP BY partnership_id, stage
  ON CONFLICT (partnership_id, stage) DO UPDATE
    SET cases = case_stage_tally.cases + EXCLUDED.cases;
  RETURN NULL;
END $$
""",
    'CREATE TRIGGER case_stage_tally_insert AFTER INSERT ON "case" '
    "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT "
    "EXECUTE FUNCTION case_stage_tally_insert()",
    'CREATE TRIGGER case_stage_tally_update AFTER UPDATE OF stage, partnership_id ON "case" '
    "FOR EACH ROW WHEN (OLD.stage IS DISTINCT FROM NEW.stage "
    "OR OLD.partnership_id IS DISTINCT FROM NEW.partnership_id) "
    "EXECUTE FUNCTION case_stage_tally_apply()",
    'CREATE TRIGGER case_stage_tally_delete AFTER DELETE ON "case" '
    "FOR EACH ROW EXECUTE FUNCTION case_stage_tally_apply()",
)
SQLITE_STAGE = (
    f'CREATE TRIGGER case_stage_tally_insert AFTER INSERT ON "case" BEGIN '
    f"{_STAGE_ADD.format(row='NEW')} END",
    'CREATE TRIGGER case_stage_tally_update AFTER UPDATE OF stage, partnership_id ON "case" '
    "WHEN OLD.stage IS NOT NEW.stage OR OLD.partnership_id IS NOT NEW.partnership_id "
    f"BEGIN {_STAGE_REMOVE.format(row='OLD')} {_STAGE_ADD.format(row='NEW')} END",
    f'CREATE TRIGGER case_stage_tally_delete AFTER DELETE ON "case" BEGIN '
    f"{_STAGE_REMOVE.format(row='OLD')} END",
)
TRIGGERS = (
    ("case_next_due_insert", "case_deadline"),
    ("case_next_due_delete", "case_deadline"),
    ("case_next_due_update", "case_deadline"),
    ("case_stage_tally_insert", '"case"'),
    ("case_stage_tally_update", '"case"'),
    ("case_stage_tally_delete", '"case"'),
)
PG_FUNCTIONS = (
    "case_next_due_insert",
    "case_next_due_delete",
    "case_next_due_update",
    "case_stage_tally_apply",
    "case_stage_tally_insert",
)


def upgrade() -> None:
    # plain ALTER TABLE on SQLite too: a batch copy of `case` would drop its triggers
    op.add_column("case", sa.Column("next_due_date", sa.Date(), nullable=True))
    op.drop_index("ix_case_created_at_id", table_name="case")
    op.create_index(
        "ix_case_created_at_id_next_due_date", "case", ["created_at", "id", "next_due_date"]
    )
    op.execute(BACKFILL_NEXT_DUE)
    op.create_table(
        "case_stage_tally",
        sa.Column("partnership_id", sa.Uuid(), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("cases", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_case_stage_tally_partnership_id_partnership"),
        ),
        sa.PrimaryKeyConstraint("partnership_id", "stage", name=op.f("pk_case_stage_tally")),
    )
    op.execute(
        "INSERT INTO case_stage_tally (partnership_id, stage, cases) "
        'SELECT partnership_id, stage, count(*) FROM "case" GROUP BY partnership_id, stage'
    )
    pg = op.get_bind().dialect.name == "postgresql"
    for statement in (*PG_NEXT_DUE, *PG_STAGE) if pg else (*SQLITE_NEXT_DUE, *SQLITE_STAGE):
        op.execute(statement)


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    for name, table in TRIGGERS:
        op.execute(f"DROP TRIGGER {name} ON {table}" if pg else f"DROP TRIGGER {name}")
    if pg:
        for function in PG_FUNCTIONS:
            op.execute(f"DROP FUNCTION {function}()")
    op.drop_table("case_stage_tally")
    op.drop_index("ix_case_created_at_id_next_due_date", table_name="case")
    op.create_index("ix_case_created_at_id", "case", ["created_at", "id"])
    op.drop_column("case", "next_due_date")  # SQLite >= 3.35: ALTER TABLE DROP COLUMN
