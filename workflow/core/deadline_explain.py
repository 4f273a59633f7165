"""Explanations of deadline statuses (workflow/core/deadlines.py): sentences a person can check
by hand with a calendar. Pure: standard library and workflow.core.calendar only.

An explanation says, in order: the status; the rule (amount, unit, direction) from the
start fact and its date, with each pause, resumption and extension (reason and approver)
and the resulting due date; the legal source with the rulebook version and calendar; and,
for working-day rules, every non-working day the count stepped over with its reason.
Dates are written "Mon 3 Mar 2025" whatever the process locale.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING

from workflow.core.calendar import NonWorkingDay

if TYPE_CHECKING:
    from workflow.core.deadlines import Adjustment, DeadlineStatus

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_UNIT_WORDS = {"working_days": "working day", "calendar_days": "calendar day", "months": "month"}


@dataclass(frozen=True)
class Trace:
    """What the evaluation did, beyond the status fields, for the explanation."""

    rulebook: str  # e.g. "england-2023 v1"
    calendar: str  # the division, e.g. "england-and-wales"
    raw_due: date | None  # the rule's date before any adjustment
    notes: tuple[str, ...]  # one sentence per pause/resume/extension, in order
    skipped: tuple[NonWorkingDay, ...]  # non-working days the count stepped over
    not_applicable: str | None  # why the deadline does not apply


def fmt(day: date) -> str:
    """``Mon 3 Mar 2025``."""
    return f"{_DAYS[day.weekday()]} {day.day} {_MONTHS[day.month - 1]} {day.year}"


def count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _days_word(working: bool) -> str:
    return "working day" if working else "calendar day"


def _who(adj: Adjustment) -> str:
    return f"{adj.reason}; approved by {adj.approved_by}"


def extension(adj: Adjustment) -> str:
    return f"Extended to {fmt(adj.effective_date)} ({_who(adj)})."


def ignored(adj: Adjustment, why: str) -> str:
    return f"{adj.kind.capitalize()} of {fmt(adj.effective_date)} ignored: {why} ({_who(adj)})."


def interval(
    pause: Adjustment, resume: Adjustment, n: int, working: bool, before: date, after: date
) -> str:
    return (
        f"Paused {fmt(pause.effective_date)} ({_who(pause)}) until resumed "
        f"{fmt(resume.effective_date)} ({_who(resume)}): "
        f"+{count(n, _days_word(working))}, so {fmt(before)} becomes {fmt(after)}."
    )


def open_pause(
    pause: Adjustment, as_of: date, n: int, working: bool, before: date, after: date
) -> str:
    return (
        f"Paused since {fmt(pause.effective_date)} ({_who(pause)}), not resumed by "
        f"{fmt(as_of)}: +{count(n, _days_word(working))} so far, so {fmt(before)} "
        f"becomes {fmt(after)} and moves later while the pause lasts."
    )


def rule(s: DeadlineStatus) -> str:
    """``5 working days after aware_date``."""
    return f"{count(s.amount, _UNIT_WORDS[str(s.unit)])} {s.direction} {s.from_fact}"


def _headline(s: DeadlineStatus, t: Trace) -> str:
    state, due, met = str(s.state), s.due_date, s.met_date
    if state == "not_applicable":
        return f"Not applicable: {t.not_applicable}."
    if state == "not_started":
        return f"Not started: {s.from_fact} is not recorded yet."
    if state == "paused":
        return "Paused: the clock is stopped."
    if state == "overdue" and due is not None:
        return (
            f"Overdue by {count(s.working_days_late or 0, 'working day')}: "
            f"{s.met_by_fact} is not recorded and was due {fmt(due)}."
        )
    if state == "pending" and due is not None and s.kind == "expectation":
        return (
            f"Expected by {fmt(due)}: a local expectation (the guidance gives no number), "
            "never overdue."
        )
    if state == "pending" and due is not None:
        if s.kind == "earliest":
            verb = s.met_by_fact.removesuffix("_date").replace("_", " ")
            return (
                f"Pending: may be {verb} from {fmt(due)} "
                f"({s.met_by_fact} should not be before then)."
            )
        left = s.working_days_remaining or 0
        when = "today" if left == 0 else f"in {count(left, 'working day')}"
        return f"Pending: due {when} (RAG {s.rag})."
    if state == "met" and met is not None:
        where = f"{fmt(met)} ({s.met_by_fact})"
        if due is None:
            return f"Met on {where}; no due date, as {s.from_fact} is not recorded."
        if s.kind == "expectation":
            by = "by" if s.on_time else "after"
            return f"Met on {where}, {by} the expected date {fmt(due)}."
        if s.kind == "earliest":
            return (
                f"Met on {where}, on or after the earliest date."
                if s.on_time
                else f"Met on {where}, before the earliest date {fmt(due)}: too early."
            )
        if s.on_time:
            return f"Met on time on {where}."
        return f"Met late on {where}: {count(s.working_days_late or 0, 'working day')} late."
    return f"{state.replace('_', ' ').capitalize()}."


def describe(s: DeadlineStatus, t: Trace) -> str:
    """The whole explanation of one status."""
    parts = [_headline(s, t)]
    start = rule(s) + (f" ({fmt(s.from_date)})" if s.from_date is not None else "")
    label = {"earliest": "Earliest", "expectation": "Expected by"}.get(s.kind, "Due")
    if s.due_date is None:
        would = f", which would give {fmt(t.raw_due)}" if t.raw_due is not None else ""
        parts.append(f"Rule: {start}{would}.")
    elif not t.notes:
        parts.append(f"{label} {fmt(s.due_date)}: {start}.")
    else:
        raw = f" gives {fmt(t.raw_due)}" if t.raw_due is not None else ""
        parts += [f"Rule: {start}{raw}.", *t.notes, f"{label} {fmt(s.due_date)}."]
    parts.append(f"Source: {s.source}. Rulebook {t.rulebook}, calendar {t.calendar}.")
    if s.due_date is not None and str(s.unit) == "working_days":
        days = ", ".join(f"{fmt(d.day)} ({d.reason})" for d in t.skipped) or "none"
        parts.append(f"Non-working days skipped: {days}.")
    return " ".join(parts)
