"""a nation per partnership (england | wales | scotland | northern_ireland)

The nation picks the default rulebook of the partnership's new cases (and so their
calendar and words; docs/nations.md). Existing partnerships are English.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "partnership",
        sa.Column("nation", sa.String(length=32), nullable=False, server_default="england"),
    )


def downgrade() -> None:
    with op.batch_alter_table("partnership") as batch:
        batch.drop_column("nation")
