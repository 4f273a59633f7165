"""every partnership has an audit chain: start one for each partnership without

A partnership's chain now starts when it is created (workflow/audit/chain.py
`start`), so verification reports a partnership without one as tampering. This
starts the chain of each existing partnership that has no record yet (one
`start_chain` record, seq 1, by "system"). Audit records are append-only: the
downgrade leaves them.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-28 09:00:00
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

GENESIS = "0" * 64

partnership = sa.table("partnership", sa.column("id", sa.Uuid()), sa.column("code", sa.String))
head = sa.table(
    "audit_chain_head",
    sa.column("chain", sa.String),
    sa.column("seq", sa.Integer),
    sa.column("hash", sa.String),
)
record = sa.table(
    "audit_record",
    sa.column("chain", sa.String),
    sa.column("seq", sa.Integer),
    sa.column("occurred_at", sa.DateTime(timezone=True)),
    sa.column("actor", sa.String),
    sa.column("action", sa.String),
    sa.column("case_id", sa.Uuid()),
    sa.column("client", sa.String),
    sa.column("outcome", sa.String),
    sa.column("detail", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("prev_hash", sa.String),
    sa.column("hash", sa.String),
)


def _hash(fields: dict[str, Any]) -> str:
    """workflow/audit/chain.py's record hash as of this revision (frozen here: a
    revision imports nothing of ours)."""
    canonical = json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()
    return hashlib.sha256(canonical).hexdigest()


def upgrade() -> None:
    conn = op.get_bind()
    chains = set(conn.scalars(sa.select(head.c.chain)))
    chains |= set(conn.scalars(sa.select(record.c.chain).distinct()))
    now = datetime.now(UTC)
    stored = now.replace(tzinfo=None) if conn.dialect.name == "sqlite" else now
    for partnership_id, code in conn.execute(sa.select(partnership.c.id, partnership.c.code)):
        if code in chains:
            continue
        fields: dict[str, Any] = {
            "chain": code,
            "seq": 1,
            "occurred_at": now.isoformat(timespec="microseconds"),
            "actor": "system",
            "action": "start_chain",
            "case_id": None,
            "client": "migration 0013",
            "outcome": "ok",
            "detail": {"partnership_id": str(partnership_id)},
            "prev_hash": GENESIS,
        }
        digest = _hash(fields)
        row = {**fields, "occurred_at": stored, "hash": digest}
        conn.execute(sa.insert(record).values(**row))
        conn.execute(sa.insert(head).values(chain=code, seq=1, hash=digest))


def downgrade() -> None:
    pass  # audit records are append-only; the chains started stay valid chains
