"""What one command writes: its statements, and only the deadline rows that changed."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import delete, event, insert, select

from tests.support.factories import NOW, command, make_case
from tests.support.world import World
from workflow.audit import chain
from workflow.cases import clock
from workflow.cases.engine import execute
from workflow.context import Context
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database
from workflow.storage.models import Case, CaseDeadline


@contextmanager
def statements(database: Database) -> Iterator[list[tuple[str, Any]]]:
    """(statement, bind values by name) of every statement the engine sends."""
    seen: list[tuple[str, Any]] = []

    def listen(_c: Any, _cur: Any, statement: str, _p: Any, context: Any, _many: bool) -> None:
        # the bind values by name, one dict per row of an executemany
        seen.append((" ".join(statement.split()), getattr(context, "compiled_parameters", [])))

    event.listen(database.engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(database.engine, "before_cursor_execute", listen)


def stored(database: Database, case_id: uuid.UUID) -> dict[str, tuple[Any, ...]]:
    rows = database.read(
        lambda s: (
            s.execute(select(CaseDeadline).where(CaseDeadline.case_id == case_id)).scalars().all()
        )
    )
    return {r.name: (r.state, r.from_date, r.due_date, r.met_date, r.on_time) for r in rows}


def test_a_command_rewrites_only_changed_deadlines_and_repairs_stray_rows(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    assert world.officer is not None
    case_id = make_case(database, rulebooks, world.officer)
    before = stored(database, case_id)
    dropped = "lcspr_published"
    assert dropped in before

    def tamper(s: Any) -> None:  # a row lost and a row of no deadline of the rulebook
        mine = CaseDeadline.case_id == case_id
        s.execute(delete(CaseDeadline).where(mine, CaseDeadline.name == dropped))
        s.execute(insert(CaseDeadline).values(case_id=case_id, name="retired", state="pending"))

    database.write(tamper)
    ctx = Context(rulebooks, world.officer, NOW)
    with statements(database) as seen:
        database.write(lambda s: execute(s, ctx, case_id, 1, command("record_notification")))
    after = stored(database, case_id)

    def expected(s: Any) -> dict[str, tuple[Any, ...]]:
        case = s.get(Case, case_id)
        rulebook = rulebooks.get(case.rulebook_id, case.rulebook_version)
        return {d.name: clock.stored_row(d) for d in clock.statuses(s, ctx, rulebook, case)}

    assert after == database.read(expected)  # every deadline, as derived; "retired" gone
    updates = [p for sql, p in seen if sql.startswith("UPDATE case_deadline")]
    updated = {row["of_name"] for rows in updates for row in rows}
    changed = {name for name in after if name in before and before[name] != after[name]}
    assert changed
    assert updated == changed  # unchanged rows are not written
    assert [sql for sql, _ in seen if sql.startswith("INSERT INTO case_deadline")]
    assert [sql for sql, _ in seen if sql.startswith("DELETE FROM case_deadline")]


def test_a_command_is_eleven_statements_at_most_and_keeps_the_chain(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    """record_notification on a case whose chain has begun: lock and read the case with
    its partnership, update it, timeline event, audit head claim + record + head hash,
    outbox row, adjustments, stored deadlines, their update (SQLite adds BEGIN)."""
    assert world.officer is not None
    case_id = make_case(database, rulebooks, world.officer)
    ctx = Context(rulebooks, world.officer, NOW)
    with statements(database) as seen:
        database.write(lambda s: execute(s, ctx, case_id, 1, command("record_notification")))
    assert len(seen) <= 11, "\n".join(sql[:80] for sql, _ in seen)
    assert all(r.ok for r in database.read_snapshot(chain.verify_all))
