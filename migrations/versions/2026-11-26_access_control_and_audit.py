"""access control and audit: partnerships, users, roles, tokens, the hash-chained
audit trail, idempotency records; every case belongs to a partnership

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 12:42:11.672922
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations import append_only

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "app_user",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("username", sa.String(length=128), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_system_admin", sa.Boolean(), nullable=False),
        sa.Column("oidc_subject", sa.String(length=255), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("oidc_subject", name=op.f("uq_app_user_oidc_subject")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    op.create_table(
        "audit_chain_head",
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chain_head")),
    )
    op.create_table(
        "audit_record",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=128), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("client", sa.String(length=255), nullable=False),
        sa.Column("outcome", sa.String(length=64), nullable=False),
        sa.Column(
            "detail",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_record")),
        sa.UniqueConstraint("chain", "seq", name=op.f("uq_audit_record_chain_seq")),
    )
    op.create_table(
        "partnership",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("division", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partnership")),
        sa.UniqueConstraint("code", name=op.f("uq_partnership_code")),
    )
    op.create_table(
        "api_token",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_api_token_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_token_token_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "idempotency_record",
        sa.Column("principal_id", sa.Uuid(), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column(
            "response_body",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("response_etag", sa.String(length=32), nullable=True),
        sa.Column("location", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["principal_id"],
            ["app_user.id"],
            name=op.f("fk_idempotency_record_principal_id_app_user"),
        ),
        sa.PrimaryKeyConstraint("principal_id", "key", name=op.f("pk_idempotency_record")),
    )
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_idempotency_record_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "membership",
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("partnership_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["partnership_id"],
            ["partnership.id"],
            name=op.f("fk_membership_partnership_id_partnership"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_membership_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("user_id", "partnership_id", "role", name=op.f("pk_membership")),
    )
    op.create_table(
        "case_assignment",
        sa.Column("case_id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_assignment_case_id_case")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["app_user.id"], name=op.f("fk_case_assignment_user_id_app_user")
        ),
        sa.PrimaryKeyConstraint("case_id", "user_id", name=op.f("pk_case_assignment")),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("partnership_id", sa.Uuid(), nullable=True))
    _assign_existing_cases()
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.alter_column("partnership_id", existing_type=sa.Uuid(), nullable=False)
        batch_op.create_index(
            "ix_case_partnership_id_created_at", ["partnership_id", "created_at"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_case_partnership_id_partnership"),
            "partnership",
            ["partnership_id"],
            ["id"],
        )
    for statement in append_only.create_sql("audit_record", op.get_bind().dialect.name):
        op.execute(statement)


def _assign_existing_cases() -> None:
    """Cases created before partnerships existed go to a partnership named 'default'."""
    bind = op.get_bind()
    if not bind.execute(sa.text('SELECT 1 FROM "case" LIMIT 1')).first():
        return
    partnership = sa.table(
        "partnership",
        sa.column("id", sa.Uuid()),
        sa.column("code", sa.String()),
        sa.column("name", sa.String()),
        sa.column("division", sa.String()),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    default_id = uuid.uuid4()
    op.bulk_insert(
        partnership,
        [
            {
                "id": default_id,
                "code": "default",
                "name": "Default partnership",
                "division": "england-and-wales",
                "created_at": datetime.now(UTC),
            }
        ],
    )
    case = sa.table("case", sa.column("partnership_id", sa.Uuid()))
    bind.execute(case.update().values(partnership_id=default_id))


def downgrade() -> None:
    for statement in append_only.drop_sql("audit_record", op.get_bind().dialect.name):
        op.execute(statement)
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_case_partnership_id_partnership"), type_="foreignkey"
        )
        batch_op.drop_index("ix_case_partnership_id_created_at")
        batch_op.drop_column("partnership_id")

    op.drop_table("case_assignment")
    op.drop_table("membership")
    with op.batch_alter_table("idempotency_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_idempotency_record_expires_at"))

    op.drop_table("idempotency_record")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))

    op.drop_table("api_token")
    op.drop_table("partnership")
    op.drop_table("audit_record")
    op.drop_table("audit_chain_head")
    op.drop_table("app_user")
