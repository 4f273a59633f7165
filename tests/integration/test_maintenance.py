"""Recomputing stored deadlines after a local calendar change."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.support.factories import NOW, make_case
from tests.support.world import World
from workflow.core.calendars import CalendarBook, CalendarFile, LocalDays
from workflow.core.rulebook import RulebookRegistry
from workflow.jobs.maintenance import refresh_deadlines
from workflow.storage.database import Database
from workflow.storage.models import CaseDeadline


def stored_due(database: Database, name: str) -> date | None:
    return database.read(
        lambda s: s.scalar(select(CaseDeadline.due_date).where(CaseDeadline.name == name))
    )


def test_refresh_applies_a_new_closure_day(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    assert world.officer is not None
    make_case(database, rulebooks, world.officer)  # aware Mon 3 Mar 2025
    assert stored_due(database, "panel_notification") == date(2025, 3, 10)
    closed = CalendarBook(
        CalendarFile(
            partnerships={"alpha": LocalDays(closures={date(2025, 3, 5): "Council closure day"})}
        )
    )
    seen: list[tuple[int, int]] = []
    count = refresh_deadlines(
        database, rulebooks, closed, NOW, progress=lambda done, total: seen.append((done, total))
    )
    assert (count, seen) == (1, [(1, 1)])
    # Wed 5 Mar is no longer a working day: Tue 4 (1), Thu 6 (2), Fri 7 (3), Mon 10 (4),
    # Tue 11 (5).
    assert stored_due(database, "panel_notification") == date(2025, 3, 11)
    assert refresh_deadlines(database, rulebooks, closed, NOW) == 1  # idempotent
    assert stored_due(database, "panel_notification") == date(2025, 3, 11)
