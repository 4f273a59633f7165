"""Append to and verify the hash-chained audit trail.

Each chain (one per partnership, plus "system") is a sequence 1, 2, 3, ... in
which every record stores the previous record's hash and its own hash over a
canonical serialisation (sorted-key JSON of every field but `id` and `hash`).
`audit_chain_head` holds each chain's last (seq, hash): appenders lock it, so a
chain never forks, and the verifier compares it with the last record, so a
deleted tail is caught too. Records never hold personal data: ids, actions,
outcomes only.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.models import AuditChainHead, AuditRecord

GENESIS = "0" * 64
SYSTEM_CHAIN = "system"


def canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(
        fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def _fields(
    chain: str,
    seq: int,
    occurred_at: datetime,
    actor: str,
    action: str,
    case_id: uuid.UUID | None,
    client: str,
    outcome: str,
    detail: Mapping[str, Any],
    prev_hash: str,
) -> dict[str, Any]:
    return {
        "chain": chain,
        "seq": seq,
        "occurred_at": occurred_at.astimezone(UTC).isoformat(timespec="microseconds"),
        "actor": actor,
        "action": action,
        "case_id": str(case_id) if case_id else None,
        "client": client,
        "outcome": outcome,
        "detail": dict(detail),
        "prev_hash": prev_hash,
    }


def record_hash(record: AuditRecord) -> str:
    return hashlib.sha256(
        canonical(
            _fields(
                record.chain,
                record.seq,
                record.occurred_at,
                record.actor,
                record.action,
                record.case_id,
                record.client,
                record.outcome,
                record.detail,
                record.prev_hash,
            )
        )
    ).hexdigest()


def _lock_head(session: Session, chain: str) -> AuditChainHead:
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(
        insert(AuditChainHead)
        .values(chain=chain, seq=0, hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["chain"])
    )
    stmt = select(AuditChainHead).where(AuditChainHead.chain == chain)
    if dialect == "postgresql":
        stmt = stmt.with_for_update()
    return session.execute(stmt).scalar_one()


def append(
    session: Session,
    *,
    chain: str,
    occurred_at: datetime,
    actor: str,
    action: str,
    case_id: uuid.UUID | None,
    client: str,
    outcome: str,
    detail: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Add the next record of `chain` in the caller's transaction (flushes)."""
    head = _lock_head(session, chain)
    record = AuditRecord(
        chain=chain,
        seq=head.seq + 1,
        occurred_at=occurred_at,
        actor=actor[:128],
        action=action,
        case_id=case_id,
        client=client[:255],
        outcome=outcome,
        detail=dict(detail or {}),
        prev_hash=head.hash,
        hash="",
    )
    record.hash = record_hash(record)
    session.add(record)
    head.seq, head.hash = record.seq, record.hash
    session.flush()
    return record


@dataclass(frozen=True)
class ChainReport:
    chain: str
    records: int
    ok: bool
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    problem: str | None = None


def _records(session: Session, chain: str) -> Iterator[AuditRecord]:
    stmt = (
        select(AuditRecord)
        .where(AuditRecord.chain == chain)
        .order_by(AuditRecord.seq, AuditRecord.id)
        .execution_options(yield_per=1000)
    )
    yield from session.scalars(stmt)


def verify_chain(session: Session, chain: str) -> ChainReport:
    """Recompute `chain` from the start; report the first broken link.

    Run it on a snapshot (Database.read_snapshot): records and head must be read at
    one instant, or an append between the two reads looks like tampering."""
    head = session.get(AuditChainHead, chain)
    expected_prev, expected_seq, count = GENESIS, 1, 0
    for record in _records(session, chain):
        count += 1
        problem = None
        if record.seq != expected_seq:
            problem = f"sequence jumps from {expected_seq - 1} to {record.seq} (records missing)"
            if record.seq < expected_seq:
                problem = f"sequence {record.seq} repeats or goes backwards"
        elif record.prev_hash != expected_prev:
            problem = "prev_hash does not match the previous record (removed or reordered)"
        elif record.hash != record_hash(record):
            problem = "content does not match its hash (edited)"
        if problem:
            return ChainReport(chain, count, False, record.seq, record.id, problem)
        expected_prev, expected_seq = record.hash, expected_seq + 1
    last_seq = expected_seq - 1
    if head is not None and (head.seq, head.hash) != (last_seq, expected_prev):
        return ChainReport(
            chain,
            count,
            False,
            last_seq + 1,
            None,
            f"chain ends at {last_seq} but its head says {head.seq} (records removed from the end)",
        )
    return ChainReport(chain, count, True)


def chains(session: Session) -> list[str]:
    names = set(session.scalars(select(AuditChainHead.chain)))
    names |= set(session.scalars(select(AuditRecord.chain).distinct()))
    return sorted(names)


def verify_all(session: Session, only: list[str] | None = None) -> list[ChainReport]:
    return [verify_chain(session, c) for c in (only or chains(session))]
