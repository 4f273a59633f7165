"""deadlines: derived case deadlines, append-only adjustments, two more date facts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 12:35:23.362415
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations import append_only

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "case_deadline",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=True),
        sa.Column("met_date", sa.Date(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_deadline_case_id_case")
        ),
        sa.PrimaryKeyConstraint("case_id", "name", name=op.f("pk_case_deadline")),
    )
    with op.batch_alter_table("case_deadline", schema=None) as batch_op:
        batch_op.create_index(
            "ix_case_deadline_state_due_date", ["state", "due_date"], unique=False
        )

    op.create_table(
        "deadline_adjustment",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("deadline", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("effective_date", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("event_sequence", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_deadline_adjustment_case_id_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deadline_adjustment")),
    )
    with op.batch_alter_table("deadline_adjustment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deadline_adjustment_case_id"), ["case_id"], unique=False
        )
    for statement in append_only.create_sql("deadline_adjustment", op.get_bind().dialect.name):
        op.execute(statement)

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("decision_sent_to_panel_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("withdrawn_date", sa.Date(), nullable=True))


def downgrade() -> None:
    for statement in append_only.drop_sql("deadline_adjustment", op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("withdrawn_date")
        batch_op.drop_column("decision_sent_to_panel_date")

    with op.batch_alter_table("deadline_adjustment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deadline_adjustment_case_id"))

    op.drop_table("deadline_adjustment")
    with op.batch_alter_table("case_deadline", schema=None) as batch_op:
        batch_op.drop_index("ix_case_deadline_state_due_date")

    op.drop_table("case_deadline")
