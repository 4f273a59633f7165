"""Writing outbox messages. Payloads hold ids, references, states, deadline names and
dates only: never children, narrative or names of people.

`stage_changed` is called in the transaction of the change it announces and costs
one Core INSERT (after the case is flushed). `insert_if_new` is the
idempotent form the sweep uses: INSERT ... ON CONFLICT (dedup_key) DO NOTHING on
both SQLite and PostgreSQL, so concurrent sweeps enqueue each fact once.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import Table, insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from workflow.storage.models import Case, OutboxMessage

STAGE_CHANGED = "case.stage_changed"
DEADLINE_APPROACHING = "deadline.approaching"
DEADLINE_MISSED = "deadline.missed"
TOPICS = (STAGE_CHANGED, DEADLINE_APPROACHING, DEADLINE_MISSED)


def case_reference(case_id: uuid.UUID, local_reference: str | None) -> str:
    """How a notification names a case: the partnership's reference, else the id's start."""
    return local_reference or str(case_id)[:8]


_INSERT = insert(cast(Table, OutboxMessage.__table__))


def stage_changed(session: Session, case: Case, from_state: str | None, now: datetime) -> None:
    """Enqueue `case.stage_changed` for the case's new version (in the caller's transaction):
    one Core INSERT on the session's connection, so the case must already be flushed."""
    message_id = uuid.uuid4()
    session.connection().execute(
        _INSERT,
        {
            "id": message_id,
            "partnership_id": case.partnership_id,
            "topic": STAGE_CHANGED,
            "case_id": case.id,
            "dedup_key": f"{STAGE_CHANGED}:{case.id}:{case.version}",
            "created_at": now,
            "payload": {
                "id": str(message_id),
                "topic": STAGE_CHANGED,
                "occurred_at": now.isoformat(),
                "case": {
                    "id": str(case.id),
                    "reference": case_reference(case.id, case.local_reference),
                    "version": case.version,
                },
                "from_state": None if from_state in (None, "start") else from_state,
                "to_state": case.state,
                "stage": case.stage,
            },
        },
    )


def deadline_row(
    *,
    topic: str,
    partnership_id: uuid.UUID,
    case_id: uuid.UUID,
    reference: str,
    deadline: str,
    due: date,
    now: datetime,
    working_days: int,
) -> dict[str, Any]:
    """The outbox row of a deadline reminder; one per (topic, case, deadline, due date),
    so an extension that moves the due date is announced again."""
    message_id = uuid.uuid4()
    return {
        "id": message_id,
        "partnership_id": partnership_id,
        "topic": topic,
        "case_id": case_id,
        "deadline_name": deadline,
        "due_date": due,
        "dedup_key": f"{topic}:{case_id}:{deadline}:{due.isoformat()}",
        "created_at": now,
        "payload": {
            "id": str(message_id),
            "topic": topic,
            "occurred_at": now.isoformat(),
            "case": {"id": str(case_id), "reference": reference},
            "deadline": {"name": deadline, "due_date": due.isoformat()},
            # approaching: working days left; missed: working days late
            "working_days": working_days,
        },
    }


def insert_if_new(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose dedup_key is new; the number inserted."""
    if not rows:
        return 0
    dialect = session.get_bind().dialect.name
    table = cast(Table, OutboxMessage.__table__)
    stmt: Any
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=["dedup_key"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=["dedup_key"])
    else:  # pragma: no cover - only the two supported databases
        stmt = insert(table)
    stmt = stmt.returning(table.c.id)  # a skipped row returns nothing (rowcount may be -1)
    return sum(1 for row in rows if session.execute(stmt.values(**row)).first() is not None)
