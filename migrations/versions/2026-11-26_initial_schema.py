"""initial schema: cases and their append-only timeline

Revision ID: 0001
Revises:
Create Date: 2026-11-26 12:31:10.421771
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import append_only

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The timeline is append-only; the database refuses edits even from a bug or a
# hand-typed UPDATE (the ORM refuses them too: workflow/storage/models/).
APPEND_ONLY = ("case_event",)


def upgrade() -> None:
    op.create_table(
        "case",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("local_reference", sa.String(length=64), nullable=True),
        sa.Column("rulebook_id", sa.String(length=64), nullable=False),
        sa.Column("rulebook_version", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("incident_date", sa.Date(), nullable=True),
        sa.Column("aware_date", sa.Date(), nullable=True),
        sa.Column("notification_date", sa.Date(), nullable=True),
        sa.Column("partners_informed_date", sa.Date(), nullable=True),
        sa.Column("rapid_review_meeting_date", sa.Date(), nullable=True),
        sa.Column("rapid_review_sent_date", sa.Date(), nullable=True),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("panel_response_date", sa.Date(), nullable=True),
        sa.Column("reviewer_commissioned_date", sa.Date(), nullable=True),
        sa.Column("terms_of_reference_date", sa.Date(), nullable=True),
        sa.Column("final_report_date", sa.Date(), nullable=True),
        sa.Column("report_sent_to_panel_date", sa.Date(), nullable=True),
        sa.Column("planned_publication_date", sa.Date(), nullable=True),
        sa.Column("published_date", sa.Date(), nullable=True),
        sa.Column("deferred_date", sa.Date(), nullable=True),
        sa.Column("deferral_review_by_date", sa.Date(), nullable=True),
        sa.Column("closed_date", sa.Date(), nullable=True),
        sa.Column("notifiable", sa.Boolean(), nullable=False),
        sa.Column("meets_review_criteria", sa.Boolean(), nullable=False),
        sa.Column("decision", sa.String(length=32), nullable=True),
        sa.Column("panel_agrees", sa.Boolean(), nullable=True),
        sa.Column("panel_takes_national_review", sa.Boolean(), nullable=True),
        sa.Column("reviewer_independent", sa.Boolean(), nullable=True),
        sa.Column("publication_status", sa.String(length=48), nullable=True),
        sa.Column("close_reason", sa.Text(), nullable=True),
        sa.Column("open_actions", sa.Integer(), nullable=False),
        sa.Column(
            "details",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case")),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index("ix_case_created_at_id", ["created_at", "id"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_stage"), ["stage"], unique=False)
        batch_op.create_index(batch_op.f("ix_case_state"), ["state"], unique=False)

    op.create_table(
        "case_event",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("event_type", sa.String(length=64), nullable=False),
        sa.Column("from_state", sa.String(length=64), nullable=True),
        sa.Column("to_state", sa.String(length=64), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_case_event_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
        sa.UniqueConstraint("case_id", "sequence", name=op.f("uq_case_event_case_id_sequence")),
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_event_case_id"), ["case_id"], unique=False)

    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for statement in append_only.create_sql(table, dialect):
            op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for table in APPEND_ONLY:
        for statement in append_only.drop_sql(table, dialect):
            op.execute(statement)
    if dialect != "sqlite":
        op.execute("DROP FUNCTION IF EXISTS refuse_append_only_change()")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_event_case_id"))

    op.drop_table("case_event")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_state"))
        batch_op.drop_index(batch_op.f("ix_case_stage"))
        batch_op.drop_index("ix_case_created_at_id")

    op.drop_table("case")
