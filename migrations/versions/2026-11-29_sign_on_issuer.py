"""single sign-on maps a user by issuer + subject, not by subject alone

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-28 09:00:00

Mappings made before this revision keep a NULL issuer: the configured issuer's tokens
match them (workflow/access/accounts.py); `casereview users sign-on` re-maps them with
an issuer.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("oidc_issuer", sa.String(length=255), nullable=True))
        batch.drop_constraint("uq_app_user_oidc_subject", type_="unique")
        batch.create_unique_constraint(
            "uq_app_user_oidc_issuer_oidc_subject", ["oidc_issuer", "oidc_subject"]
        )


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_constraint("uq_app_user_oidc_issuer_oidc_subject", type_="unique")
        batch.create_unique_constraint("uq_app_user_oidc_subject", ["oidc_subject"])
        batch.drop_column("oidc_issuer")
