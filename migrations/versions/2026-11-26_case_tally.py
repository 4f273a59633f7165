"""case tally: per-partnership count and version sum of cases, kept by triggers

The ETag of `GET /cases` and of the dashboard is a change counter of the caller's
visible cases (how many, and the sum of their versions). Computing it over the
`case` table costs a scan of every visible case on every poll; `case_tally` keeps
the same two numbers per partnership, maintained by triggers in the transaction
that inserts, updates or deletes a case, so the tag reads at most one row per
partnership. A partnership's commands already serialise on its audit chain head,
so its tally row adds no new contention.

Revision ID: 0007
Revises: 0005
Create Date: 2026-11-26 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (trigger, event, row) -> what it adds: +1 case and +version for NEW, -1 and -version for OLD
_ADD = (
    "INSERT INTO case_tally (partnership_id, cases, version_sum) "
    "VALUES ({row}.partnership_id, 0, 0) ON CONFLICT (partnership_id) DO NOTHING; "
    "UPDATE case_tally SET cases = cases + 1, version_sum = version_sum + {row}.version "
    "WHERE partnership_id = {row}.partnership_id;"
)
_REMOVE = (
    "UPDATE case_tally SET cases = cases - 1, version_sum = version_sum - {row}.version "
    "WHERE partnership_id = {row}.partnership_id;"
)
PG_FUNCTION = f"""
CREATE FUNCTION case_tally_apply() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN {_REMOVE.format(row="OLD")} END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN {_ADD.format(row="NEW")} END IF;
  RETURN NULL;
END $$
"""
# Inserts are counted once per statement (bulk imports insert many cases in one
# transaction; a row trigger would update the same tally row once per case).
PG_INSERT_FUNCTION = """
CREATE FUNCTION case_tally_insert() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
SET search_path = public AS $$
BEGIN
  INSERT INTO case_tally (partnership_id, cases, version_sum)
  SELECT partnership_id, count(*), sum(version) FROM inserted GROUP BY partnership_id
  ON CONFLICT (partnership_id) DO UPDATE
    SET cases = case_tally.cases + EXCLUDED.cases,
        version_sum = case_tally.version_sum + EXCLUDED.version_sum;
  RETURN NULL;
END $$
"""
PG_TRIGGERS = (
    'CREATE TRIGGER case_tally_insert AFTER INSERT ON "case" '
    "REFERENCING NEW TABLE AS inserted FOR EACH STATEMENT EXECUTE FUNCTION case_tally_insert()",
    'CREATE TRIGGER case_tally_update AFTER UPDATE OF version, partnership_id ON "case" '
    "FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version "
    "OR OLD.partnership_id IS DISTINCT FROM NEW.partnership_id) "
    "EXECUTE FUNCTION case_tally_apply()",
    'CREATE TRIGGER case_tally_delete AFTER DELETE ON "case" '
    "FOR EACH ROW EXECUTE FUNCTION case_tally_apply()",
)
SQLITE_TRIGGERS = (
    f'CREATE TRIGGER case_tally_insert AFTER INSERT ON "case" BEGIN {_ADD.format(row="NEW")} END',
    'CREATE TRIGGER case_tally_update AFTER UPDATE OF version, partnership_id ON "case" '
    "WHEN OLD.version IS NOT NEW.version OR OLD.partnership_id IS NOT NEW.partnership_id "
    f"BEGIN {_REMOVE.format(row='OLD')} {_ADD.format(row='NEW')} END",
    f'CREATE TRIGGER case_tally_delete AFTER DELETE ON "case" BEGIN '
    f"{_REMOVE.format(row='OLD')} END",
)


def upgrade() -> None:
    op.create_table(
        "case_tally",
        sa.Column("partnership_id", sa.Uuid(), nullable=False),
        sa.Column("cases", sa.BigInteger(), nullable=False),
        sa.Column("version_sum", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_case_tally_partnership_id_partnership"),
        ),
        sa.PrimaryKeyConstraint("partnership_id", name=op.f("pk_case_tally")),
    )
    op.execute(
        "INSERT INTO case_tally (partnership_id, cases, version_sum) "
        'SELECT partnership_id, count(*), sum(version) FROM "case" GROUP BY partnership_id'
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_FUNCTION)
        op.execute(PG_INSERT_FUNCTION)
        for statement in PG_TRIGGERS:
            op.execute(statement)
    else:
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def downgrade() -> None:
    for name in ("case_tally_insert", "case_tally_update", "case_tally_delete"):
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f'DROP TRIGGER {name} ON "case"')
        else:
            op.execute(f"DROP TRIGGER {name}")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION case_tally_apply()")
        op.execute("DROP FUNCTION case_tally_insert()")
    op.drop_table("case_tally")
