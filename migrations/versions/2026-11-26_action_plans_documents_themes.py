"""action plans, documents, thematic reviews, learning themes, involvement milestones

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 13:08:45.522416
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import append_only

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


APPEND_ONLY = ("action_update", "document_version")


def upgrade() -> None:
    op.create_table(
        "case_link",
        sa.Column("thematic_case_id", sa.Uuid(), nullable=False),
        sa.Column("source_case_id", sa.Uuid(), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_case_id"], ["case.id"], name=op.f("fk_case_link_source_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["thematic_case_id"], ["case.id"], name=op.f("fk_case_link_thematic_case_id_case")
        ),
        sa.PrimaryKeyConstraint("thematic_case_id", "source_case_id", name=op.f("pk_case_link")),
    )
    with op.batch_alter_table("case_link", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_case_link_source_case_id"), ["source_case_id"], unique=False
        )

    op.create_table(
        "document",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("redacted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_document_case_id_case")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document")),
    )
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_document_case_id"), ["case_id"], unique=False)

    op.create_table(
        "recommendation",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_recommendation_case_id_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_recommendation")),
        sa.UniqueConstraint("case_id", "number", name=op.f("uq_recommendation_case_id_number")),
    )
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_recommendation_case_id"), ["case_id"], unique=False)

    op.create_table(
        "theme_tag",
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.Uuid(), nullable=False),
        sa.Column("theme", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_theme_tag_case_id_case")),
        sa.PrimaryKeyConstraint("subject_type", "subject_id", "theme", name=op.f("pk_theme_tag")),
    )
    with op.batch_alter_table("theme_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_theme_tag_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "ix_theme_tag_theme_subject_type", ["theme", "subject_type"], unique=False
        )

    op.create_table(
        "action",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("recommendation_id", sa.Uuid(), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("agency", sa.String(length=32), nullable=False),
        sa.Column("agency_name", sa.String(length=200), nullable=True),
        sa.Column("owner", sa.String(length=200), nullable=False),
        sa.Column("owner_username", sa.String(length=128), nullable=True),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"], name=op.f("fk_action_case_id_case")),
        sa.ForeignKeyConstraint(
            ["recommendation_id"],
            ["recommendation.id"],
            name=op.f("fk_action_recommendation_id_recommendation"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action")),
    )
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.create_index("ix_action_agency_status", ["agency", "status"], unique=False)
        batch_op.create_index(batch_op.f("ix_action_case_id"), ["case_id"], unique=False)
        batch_op.create_index("ix_action_status_due_date", ["status", "due_date"], unique=False)

    op.create_table(
        "document_version",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("document_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=255), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.String(length=128), nullable=False),
        sa.ForeignKeyConstraint(
            ["document_id"], ["document.id"], name=op.f("fk_document_version_document_id_document")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_document_version")),
        sa.UniqueConstraint(
            "document_id", "version", name=op.f("uq_document_version_document_id_version")
        ),
    )
    with op.batch_alter_table("document_version", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_document_version_document_id"), ["document_id"], unique=False
        )

    op.create_table(
        "action_update",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("action_id", sa.Uuid(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column(
            "evidence",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["action_id"], ["action.id"], name=op.f("fk_action_update_action_id_action")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_action_update")),
    )
    with op.batch_alter_table("action_update", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_action_update_action_id"), ["action_id"], unique=False)

    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="incident")
        )
        batch_op.add_column(sa.Column("title", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("family_informed_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("family_invited_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("family_contributed_date", sa.Date(), nullable=True))
        batch_op.add_column(sa.Column("family_declined_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("family_told_before_publication_date", sa.Date(), nullable=True)
        )
        batch_op.add_column(sa.Column("practitioner_event_date", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "unactioned_recommendations", sa.Integer(), nullable=False, server_default="0"
            )
        )
        batch_op.add_column(
            sa.Column(
                "carried_by_thematic", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    for table in APPEND_ONLY:
        for statement in append_only.create_sql(table, op.get_bind().dialect.name):
            op.execute(statement)


def downgrade() -> None:
    for table in APPEND_ONLY:
        for statement in append_only.drop_sql(table, op.get_bind().dialect.name):
            op.execute(statement)
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_column("carried_by_thematic")
        batch_op.drop_column("unactioned_recommendations")
        batch_op.drop_column("practitioner_event_date")
        batch_op.drop_column("family_told_before_publication_date")
        batch_op.drop_column("family_declined_date")
        batch_op.drop_column("family_contributed_date")
        batch_op.drop_column("family_invited_date")
        batch_op.drop_column("family_informed_date")
        batch_op.drop_column("title")
        batch_op.drop_column("kind")

    with op.batch_alter_table("action_update", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_action_update_action_id"))

    op.drop_table("action_update")
    with op.batch_alter_table("document_version", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_version_document_id"))

    op.drop_table("document_version")
    with op.batch_alter_table("action", schema=None) as batch_op:
        batch_op.drop_index("ix_action_status_due_date")
        batch_op.drop_index(batch_op.f("ix_action_case_id"))
        batch_op.drop_index("ix_action_agency_status")

    op.drop_table("action")
    with op.batch_alter_table("theme_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_theme_tag_theme_subject_type")
        batch_op.drop_index(batch_op.f("ix_theme_tag_case_id"))

    op.drop_table("theme_tag")
    with op.batch_alter_table("recommendation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_recommendation_case_id"))

    op.drop_table("recommendation")
    with op.batch_alter_table("document", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_document_case_id"))

    op.drop_table("document")
    with op.batch_alter_table("case_link", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_link_source_case_id"))

    op.drop_table("case_link")
