"""scale indexes: partial indexes for live / met deadlines and open actions, keyset
index per partnership, and the interval end dates the dashboard medians select on

At 100k cases the dashboard and the filtered lists scanned `case_deadline`,
`action` and `case`: live (pending) deadlines and open actions are a small part
of their tables, met deadlines are selected by name and date met, and a
partnership's list pages in (created_at, id) order.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "state = 'pending'"
MET = "state = 'met'"
OPEN = "status IN ('not_started', 'in_progress', 'completed_awaiting_evidence')"
# (name, table, columns, partial condition or None)
INDEXES = (
    ("ix_case_partnership_id_created_at_id", "case", ["partnership_id", "created_at", "id"], None),
    # (end, start, partnership) of each interval: the medians read the index alone
    (
        "ix_case_notification_date",
        "case",
        ["notification_date", "aware_date", "partnership_id"],
        None,
    ),
    (
        "ix_case_rapid_review_sent_date",
        "case",
        ["rapid_review_sent_date", "notification_date", "partnership_id"],
        None,
    ),
    (
        "ix_case_decision_date",
        "case",
        ["decision_date", "rapid_review_sent_date", "partnership_id"],
        None,
    ),
    ("ix_case_published_date", "case", ["published_date", "decision_date", "partnership_id"], None),
    ("ix_case_deadline_pending_case_due", "case_deadline", ["case_id", "due_date"], PENDING),
    (
        "ix_case_deadline_pending_name_due",
        "case_deadline",
        ["name", "due_date", "case_id"],
        PENDING,
    ),
    (
        "ix_case_deadline_met_name_date",
        "case_deadline",
        ["name", "met_date", "on_time", "case_id"],
        MET,
    ),
    ("ix_action_open_agency_due", "action", ["agency", "due_date", "case_id"], OPEN),
)


def upgrade() -> None:
    op.drop_index("ix_case_partnership_id_created_at", table_name="case")
    for name, table, columns, where in INDEXES:
        partial = {} if where is None else {"postgresql_where": sa.text(where)}
        if where is not None:
            partial["sqlite_where"] = sa.text(where)
        op.create_index(name, table, columns, unique=False, **partial)


def downgrade() -> None:
    for name, table, _columns, _where in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.create_index("ix_case_partnership_id_created_at", "case", ["partnership_id", "created_at"])
