"""Append to and verify the hash-chained audit trail.

Each chain (one per partnership, plus "system") is a sequence 1, 2, 3, ... in
which every record stores the previous record's hash and its own hash over a
canonical serialisation (sorted-key JSON of every field but `id` and `hash`).
`audit_chain_head` holds each chain's last (seq, hash): appenders lock it, so a
chain never forks, and the verifier compares it with the last record, so a
deleted tail is caught too. A partnership's chain starts when the partnership is
created (`start`), so a partnership without records has lost its chain. Records
never hold personal data: ids, actions, outcomes only.

All of this is checked against the database alone, so whoever can write the
database can also cut a tail together with its head, or rewrite and rehash: the
signed checkpoints outside it (checkpoint.py, docs/audit.md) catch those.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, bindparam, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from workflow.storage.models import AuditChainHead, AuditRecord, Partnership

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


# Prebuilt Core statements (building a statement per call cost as much as running
# it). Bind names differ from the column names: an UPDATE reserves those.
_HEAD = cast(Table, AuditChainHead.__table__)
_RECORD = cast(Table, AuditRecord.__table__)
# Claims the next seq and locks the head row until the transaction ends (PostgreSQL:
# a row lock; SQLite: the write transaction already holds the database lock). It
# returns the new seq and the previous record's hash, which is still stored.
_CLAIM = (
    update(_HEAD)
    .where(_HEAD.c.chain == bindparam("chain_name"))
    .values(seq=_HEAD.c.seq + 1)
    .returning(_HEAD.c.seq, _HEAD.c.hash)
)
_SET_HASH = (
    update(_HEAD).where(_HEAD.c.chain == bindparam("chain_name")).values(hash=bindparam("new_hash"))
)
_INSERT_RECORD = insert(_RECORD)
_GENESIS = {
    name: dialect_insert(_HEAD)
    .values(chain=bindparam("chain_name"), seq=0, hash=GENESIS)
    .on_conflict_do_nothing(index_elements=["chain"])
    for name, dialect_insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def _claim(connection: Connection, chain: str) -> tuple[int, str]:
    """The new record's seq and the previous record's hash; a new chain starts at the
    genesis row (insert-or-ignore, so two first appenders agree)."""
    row = connection.execute(_CLAIM, {"chain_name": chain}).first()
    if row is None:
        connection.execute(_GENESIS[connection.dialect.name], {"chain_name": chain})
        row = connection.execute(_CLAIM, {"chain_name": chain}).one()
    return int(row[0]), str(row[1])


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
) -> str:
    """Add the next record of `chain` in the caller's transaction; returns its hash.

    Three Core statements on the session's connection: claim the head (UPDATE ...
    RETURNING, which locks it), insert the record, store its hash in the head. The
    session's pending ORM changes are not flushed here."""
    connection = session.connection()
    seq, prev_hash = _claim(connection, chain)
    fields = _fields(
        chain,
        seq,
        occurred_at,
        actor[:128],
        action,
        case_id,
        client[:255],
        outcome,
        dict(detail or {}),
        prev_hash,
    )
    digest = hashlib.sha256(canonical(fields)).hexdigest()
    connection.execute(
        _INSERT_RECORD,
        {
            "chain": chain,
            "seq": seq,
            "occurred_at": occurred_at,
            "actor": fields["actor"],
            "action": action,
            "case_id": case_id,
            "client": fields["client"],
            "outcome": outcome,
            "detail": fields["detail"],
            "prev_hash": prev_hash,
            "hash": digest,
        },
    )
    connection.execute(_SET_HASH, {"chain_name": chain, "new_hash": digest})
    return digest


def start(
    session: Session,
    partnership: Partnership,
    occurred_at: datetime,
    actor: str = "system",
    client: str = "casereview",
) -> str:
    """The first record of a new partnership's chain (`create_partnership`, by `actor`
    from `client`), so that every partnership has a chain from its creation and a
    missing one is tampering."""
    return append(
        session,
        chain=partnership.code,
        occurred_at=occurred_at,
        actor=actor,
        action="create_partnership",
        case_id=None,
        client=client,
        outcome="ok",
        detail={"partnership_id": str(partnership.id)},
    )


@dataclass(frozen=True)
class ChainReport:
    """One chain's verification. `records` is also its last seq when `ok` (seqs run
    1, 2, 3, ...); `checkpoint_seq` the seq of the signed checkpoint it was compared
    with, if any (checkpoint.py)."""

    chain: str
    records: int
    ok: bool
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    problem: str | None = None
    checkpoint_seq: int | None = None


def _records(session: Session, chain: str, since: int) -> Iterator[AuditRecord]:
    stmt = (
        select(AuditRecord)
        .where(AuditRecord.chain == chain, AuditRecord.seq >= since)
        .order_by(AuditRecord.seq, AuditRecord.id)
        .execution_options(yield_per=1000)
    )
    yield from session.scalars(stmt)


def verify_chain(session: Session, chain: str, since: int = 1) -> ChainReport:
    """Recompute `chain` from seq 1 (or `since`); report the first broken link.

    `since` > 1: from that seq on, taking the record before it on trust; only for a
    seq a signed checkpoint pins (verification.py), where a problem found means
    "verify from the start to say what it is". Run it on a snapshot
    (Database.read_snapshot): records and head must be read at one instant, or an
    append between the two reads looks like tampering."""
    head = session.get(AuditChainHead, chain)
    expected_prev, expected_seq, count = GENESIS, since, 0
    for record in _records(session, chain, since):
        count += 1
        problem = None
        if record.seq != expected_seq:
            problem = f"sequence jumps from {expected_seq - 1} to {record.seq} (records missing)"
            if record.seq < expected_seq:
                problem = f"sequence {record.seq} repeats or goes backwards"
        elif record.prev_hash != expected_prev and (since == 1 or count > 1):
            problem = "prev_hash does not match the previous record (removed or reordered)"
        elif record.hash != record_hash(record):
            problem = "content does not match its hash (edited)"
        if problem:
            return ChainReport(chain, since - 1 + count, False, record.seq, record.id, problem)
        expected_prev, expected_seq = record.hash, expected_seq + 1
    last_seq = expected_seq - 1
    if count == 0 and since > 1:
        return ChainReport(chain, 0, False, since, None, f"chain ends before seq {since}")
    if count == 0:
        # a partnership's chain starts with its creation: one without records (or a
        # head without records) was removed; "system" is empty until its first record
        partnership = session.scalar(select(Partnership.id).where(Partnership.code == chain))
        if head is None and partnership is None:
            return ChainReport(chain, 0, True)
        return ChainReport(chain, 0, False, 1, None, "no audit records: the chain was removed")
    count = last_seq  # from here on, every record from 1 to last_seq was seen or pinned
    if head is None:
        return ChainReport(
            chain,
            count,
            False,
            last_seq + 1,
            None,
            f"chain ends at {last_seq} but has no head row (removed)",
        )
    if (head.seq, head.hash) != (last_seq, expected_prev):
        return ChainReport(
            chain,
            count,
            False,
            last_seq + 1,
            None,
            f"chain ends at {last_seq} but its head says {head.seq} "
            "(records removed from the end, or the head moved)",
        )
    return ChainReport(chain, count, True)


def chains(session: Session) -> list[str]:
    """Every chain there is or must be: those with a head or records, and every
    partnership's (a partnership without one is reported broken)."""
    names = set(session.scalars(select(AuditChainHead.chain)))
    names |= set(session.scalars(select(AuditRecord.chain).distinct()))
    names |= set(session.scalars(select(Partnership.code)))
    return sorted(names)


def verify_all(session: Session, only: list[str] | None = None) -> list[ChainReport]:
    return [verify_chain(session, c) for c in (only or chains(session))]
