"""The rows a change of a case writes (timeline event, case row, outbox message),
for the unit of work in workflow/cases/change.py, and a case's audit record."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import Table, Update, bindparam, insert, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from workflow.context import Context
from workflow.notifications import outbox
from workflow.storage.models import Case, CaseEvent, Partnership


def notify_state_change(session: Session, ctx: Context, case: Case, from_state: str) -> None:
    """Enqueue `case.stage_changed` if `case` left `from_state` (one INSERT, flushed with
    the command, so the notification commits with the change or not at all)."""
    if case.state != from_state:
        outbox.stage_changed(session, case, from_state, ctx.now)


def audit_case(
    session: Session, ctx: Context, case: Case, action: str, detail: dict[str, Any] | None = None
) -> None:
    """One successful audit record about `case` (a read, a document), in its
    partnership's chain. `detail` holds ids and numbers only, never personal data."""
    partnership = session.get(Partnership, case.partnership_id)
    assert partnership is not None
    ctx.audit(session, action, chain=partnership.code, case_id=case.id, detail=detail)


def _event_row(
    case: Case,
    event_type: str,
    from_state: str,
    to_state: str,
    payload: dict[str, Any],
    ctx: Context,
) -> dict[str, Any]:
    return {
        "case_id": case.id,
        "sequence": case.version,
        "event_type": event_type,
        "from_state": None if from_state == "start" else from_state,
        "to_state": to_state,
        "occurred_at": ctx.now,
        "actor": ctx.actor,
        "payload": payload,
    }


_INSERT_EVENT = insert(cast(Table, CaseEvent.__table__))


def add_timeline_event(
    session: Session,
    case: Case,
    event_type: str,
    from_state: str,
    to_state: str,
    payload: dict[str, Any],
    ctx: Context,
) -> None:
    """A timeline event inserted at once with one Core statement on the session's
    connection (the timeline is append-only: no ORM unit of work needed). The case
    must already be flushed (the event's foreign key)."""
    session.connection().execute(
        _INSERT_EVENT, _event_row(case, event_type, from_state, to_state, payload, ctx)
    )


_CASE = cast(Table, Case.__table__)
_CASE_UPDATES: dict[tuple[str, ...], Update] = {}  # per set of columns, built once


def update_case(session: Session, case: Case, changes: Mapping[str, Any]) -> None:
    """Write `changes` (column -> value, the new `version` included) to the case's row
    with one Core UPDATE, checked against the version the session loaded (as the ORM's
    version check does), and keep them on `case` as its loaded state, so the unit of
    work does not write them again. The caller holds the case's row lock."""
    keys = tuple(sorted(changes))
    stmt = _CASE_UPDATES.get(keys)
    if stmt is None:
        stmt = (
            update(_CASE)
            .where(_CASE.c.id == bindparam("of_case"), _CASE.c.version == bindparam("loaded"))
            .values({k: bindparam(f"new_{k}") for k in keys})
        )
        if len(_CASE_UPDATES) < 256:
            _CASE_UPDATES[keys] = stmt
    params = {f"new_{k}": v for k, v in changes.items()}
    result = session.connection().execute(
        stmt, {"of_case": case.id, "loaded": case.version, **params}
    )
    if result.rowcount != 1:
        raise StaleDataError(f"case {case.id} is no longer at version {case.version}")
    for key, value in changes.items():
        set_committed_value(case, key, value)
