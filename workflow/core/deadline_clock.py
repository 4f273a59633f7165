"""The clock of one deadline: the rule's raw due date, and the pauses, resumptions
and extensions recorded on the case applied to it. Pure (deadlines.py uses it).

Adjustments are applied in the order recorded: a pause..resume interval pushes the
due date later by its length in the deadline's own unit (working days for working-day
rules, calendar days otherwise); an open pause counts up to today (or the met date);
a pause dated after the met date is ignored and an interval stops counting at the met
date (a met deadline never moves);
an extension sets a new due date outright, so the latest recorded extension wins and
only later pauses push it further.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

from workflow.core import deadline_explain as explain
from workflow.core.calendar import NonWorkingDay, WorkingDayCalendar, add_months
from workflow.core.rulebook import DeadlineDef, DeadlineUnit

AdjustmentKind = Literal["pause", "resume", "extension"]
_ADJUSTMENT_KINDS = ("pause", "resume", "extension")


@dataclass(frozen=True)
class Adjustment:
    """A pause, resumption or extension of one deadline, as recorded on the timeline.

    For a pause or resume `effective_date` is the day it took effect; for an extension
    it is the new due date."""

    deadline: str
    kind: AdjustmentKind
    effective_date: date
    reason: str
    approved_by: str

    def __post_init__(self) -> None:
        if self.kind not in _ADJUSTMENT_KINDS:
            raise ValueError(
                f"adjustment kind must be one of {_ADJUSTMENT_KINDS}, got {self.kind!r}"
            )
        check_date(self.effective_date, "effective_date")


def due_date(deadline: DeadlineDef, start: date, calendar: WorkingDayCalendar) -> date:
    """The raw rule, without adjustments: `start` is day 0."""
    check_date(start, "start")
    n = deadline.amount if deadline.direction == "after" else -deadline.amount
    if deadline.unit is DeadlineUnit.WORKING_DAYS:
        return calendar.add_working_days(start, n)
    if deadline.unit is DeadlineUnit.CALENDAR_DAYS:
        return start + timedelta(days=n)
    return add_months(start, n)


@dataclass(frozen=True)
class Clock:
    start: date  # the from fact's date (day 0)
    raw: date  # the rule's due date, before adjustments
    due: date
    paused_days: int
    paused_since: Adjustment | None
    extended: bool
    notes: tuple[str, ...]


def run_clock(
    deadline: DeadlineDef,
    start: date,
    calendar: WorkingDayCalendar,
    adjustments: Sequence[Adjustment],
    as_of: date,
) -> Clock:
    """Apply the adjustments, in the order recorded, to the rule's due date."""
    raw = due_date(deadline, start, calendar)
    due, paused, extended = raw, 0, False
    open_pause: Adjustment | None = None
    notes: list[str] = []
    working = deadline.unit is DeadlineUnit.WORKING_DAYS
    for adj in adjustments:
        if adj.kind == "extension":
            due, paused, extended = adj.effective_date, 0, True
            notes.append(explain.extension(adj))
        elif not deadline.pausable:
            notes.append(explain.ignored(adj, "this deadline cannot be paused"))
        elif adj.kind == "pause":
            if adj.effective_date > as_of:
                # A met deadline never moves: a pause dated after the met date (or in
                # the future) applies to nothing that was still running.
                notes.append(explain.ignored(adj, "the deadline was no longer running then"))
            elif open_pause is None:
                open_pause = adj
            else:
                notes.append(explain.ignored(adj, "the deadline was already paused"))
        elif open_pause is None:
            notes.append(explain.ignored(adj, "the deadline was not paused"))
        else:
            # Counted only while the deadline ran: up to the met date at the latest.
            end = min(adj.effective_date, as_of)
            n = _length(open_pause.effective_date, end, calendar, working)
            pushed = _push(due, n, calendar, working)
            notes.append(explain.interval(open_pause, adj, n, working, due, pushed))
            due, paused, open_pause = pushed, paused + n, None
    if open_pause is not None and open_pause.effective_date > as_of:
        notes.append(explain.ignored(open_pause, "it takes effect later"))
        open_pause = None
    if open_pause is not None:
        n = _length(open_pause.effective_date, as_of, calendar, working)
        pushed = _push(due, n, calendar, working)
        notes.append(explain.open_pause(open_pause, as_of, n, working, due, pushed))
        due, paused = pushed, paused + n
    return Clock(start, raw, due, paused, open_pause, extended, tuple(notes))


def skipped(
    deadline: DeadlineDef, clock: Clock | None, calendar: WorkingDayCalendar
) -> tuple[NonWorkingDay, ...]:
    """The non-working days a working-day count stepped over (for the explanation).

    An extension's date is set by a person, so then only the rule's own count is listed."""
    if clock is None or deadline.unit is not DeadlineUnit.WORKING_DAYS:
        return ()
    return tuple(calendar.skipped_days(clock.start, clock.raw if clock.extended else clock.due))


def _length(start: date, end: date, calendar: WorkingDayCalendar, working: bool) -> int:
    days = calendar.working_days_between(start, end) if working else (end - start).days
    return max(0, days)


def _push(due: date, n: int, calendar: WorkingDayCalendar, working: bool) -> date:
    return calendar.add_working_days(due, n) if working else due + timedelta(days=n)


def check_date(value: object, what: str) -> date:
    # A datetime is a date subclass but would count from the wrong day near midnight.
    if not isinstance(value, date) or isinstance(value, datetime):
        raise TypeError(f"{what} must be a datetime.date, got {value!r}")
    return value
