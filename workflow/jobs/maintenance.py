"""Maintenance: recompute every case's stored deadlines (after a change to the
local calendar or a rulebook file). Idempotent; batches of its own transactions."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.access.principal import Principal
from workflow.cases import clock
from workflow.context import Context
from workflow.core.calendars import CalendarBook
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database
from workflow.storage.models import Case, Partnership

SYSTEM = Principal(user_id=uuid.UUID(int=0), username="system", grants=())


def refresh_deadlines(
    db: Database,
    rulebooks: RulebookRegistry,
    calendars: CalendarBook,
    now: datetime,
    *,
    batch: int = 500,
    progress: Callable[[int, int], None] | None = None,
) -> int:
    """Recompute the stored deadlines of every case; returns how many were refreshed.

    Derived rows only: no case version, timeline event or audit record changes."""
    ctx = Context(rulebooks, SYSTEM, now, "maintenance", calendars)
    ids = db.read(lambda s: list(s.scalars(select(Case.id).order_by(Case.created_at, Case.id))))
    done = 0
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]

        def run(session: Session, chunk: list[uuid.UUID] = chunk) -> None:
            for case in session.scalars(select(Case).where(Case.id.in_(chunk))):
                clock.refresh(
                    session, ctx, rulebooks.get(case.rulebook_id, case.rulebook_version), case
                )

        db.write(run)
        done += len(chunk)
        if progress:
            progress(done, len(ids))
    return done


def unknown_calendar_partnerships(db: Database, calendars: CalendarBook) -> list[str]:
    """Partnership codes in the calendar file that no partnership has (likely typos)."""
    named = set(calendars.config.partnerships)
    if not named:
        return []
    known = db.read(lambda s: set(s.scalars(select(Partnership.code))))
    return sorted(named - known)
