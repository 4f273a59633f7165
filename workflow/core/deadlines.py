"""The deadlines of a case, derived from its facts and its rulebook: pure, no database.

The rules themselves are rulebook data (config/rulebooks/*.yaml): each DeadlineDef names
its legal source, e.g. Children Act 2004 s16C(1) with Working Together 2023 ch.5 (notify
the Panel within 5 working days of becoming aware), SI 2018/789 reg. 15 (final report to
the Panel and the Secretary of State at least 7 working days before publication), or the
Local Safeguarding Children Boards Regulations 2006 reg. 5 with Working Together 2015
ch.4 for historic Serious Case Reviews. A case is evaluated with the rulebook object it
was opened under, so a later version never changes how its deadlines were counted.

Counting (domain.md, "Working days"): the start fact's date is day 0; working-day rules
use WorkingDayCalendar.add_working_days (a `before` rule counts backwards the same way),
calendar-day rules add days, month rules use add_months (clamped to the month's end).

Status of one deadline, in order of precedence:

1. the met_by fact is recorded: MET (kept visible whatever the case's state);
2. its `applies_if` guard is false, or the case's state is not in `applies_in`:
   NOT_APPLICABLE (a branch the case did not take, or a stage it has left);
3. the from fact is missing: NOT_STARTED;
4. an open pause (pausable deadlines only): PAUSED;
5. otherwise PENDING, or OVERDUE once today is after the due date. An `earliest`
   deadline (a date before which the met_by fact should NOT happen) is never overdue,
   nor is an `expectation` (a local, configurable date where the guidance gives no
   number): it stays PENDING past its date, with no RAG rating, met early or late.

Adjustments (recorded on the case's timeline by the service layer) are applied in the
order given: a pause..resume interval pushes the due date later by its length in the
deadline's own unit (working days for working-day rules, calendar days otherwise); an
open pause counts up to today (or the met date); an extension sets a new due date
outright, so the latest recorded extension wins and only later pauses push it further.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from typing import Any, Literal

from workflow.core import deadline_explain as explain
from workflow.core.calendar import WorkingDayCalendar
from workflow.core.deadline_clock import (
    Adjustment,
    AdjustmentKind,
    check_date,
    due_date,
    run_clock,
    skipped,
)
from workflow.core.guards import GUARDS
from workflow.core.rulebook import DeadlineDef, DeadlineUnit, Rulebook

__all__ = [
    "Adjustment",
    "AdjustmentKind",
    "DeadlineState",
    "DeadlineStatus",
    "RagThresholds",
    "due_date",
    "evaluate",
    "evaluate_all",
]

Rag = Literal["red", "amber", "green"]


class DeadlineState(StrEnum):
    NOT_STARTED = "not_started"  # live, but its start fact is not recorded yet
    PENDING = "pending"
    OVERDUE = "overdue"
    MET = "met"
    PAUSED = "paused"
    NOT_APPLICABLE = "not_applicable"


@dataclass(frozen=True)
class RagThresholds:
    """Green while more than `amber_within_working_days` remain; red when overdue or
    met late."""

    amber_within_working_days: int = 3

    def __post_init__(self) -> None:
        if self.amber_within_working_days < 0:
            raise ValueError("amber_within_working_days must be 0 or more")


@dataclass(frozen=True)
class DeadlineStatus:
    name: str
    title: str
    source: str
    kind: Literal["due_by", "earliest", "expectation"]
    unit: DeadlineUnit
    amount: int
    direction: Literal["after", "before"]
    from_fact: str
    from_date: date | None
    met_by_fact: str
    met_date: date | None
    state: DeadlineState
    due_date: date | None
    on_time: bool | None  # MET: on or before the due date (earliest: on or after it)
    # working_days_late / _remaining and rag are None for an expectation, except
    # working_days_remaining while its date is still ahead (0 = expected today).
    working_days_late: int | None  # MET (due_by): 0 or N late; OVERDUE: overdue by N
    working_days_remaining: int | None  # PENDING (due_by): due in N (0 = due today)
    rag: Rag | None
    paused_days: int  # days (in the deadline's unit) added to the due date by pauses
    explanation: str  # sentences a person can check by hand (workflow/core/deadline_explain.py)


def evaluate(
    rulebook: Rulebook,
    deadline: DeadlineDef,
    *,
    state: str,
    facts: Mapping[str, Any],
    today: date,
    calendar: WorkingDayCalendar,
    adjustments: Sequence[Adjustment] = (),
    thresholds: RagThresholds = RagThresholds(),
) -> DeadlineStatus:
    """The status of one deadline of a case in `state` with `facts`, as of `today`."""
    check_date(today, "today")
    from_date = _date_fact(facts, deadline.from_fact)
    met_date = _date_fact(facts, deadline.met_by_fact)
    mine = [a for a in adjustments if a.deadline == deadline.name]
    clock = None
    if from_date is not None:
        clock = run_clock(deadline, from_date, calendar, mine, met_date or today)
    why_not = _why_not_applicable(deadline, state, facts)

    if met_date is not None:
        status = DeadlineState.MET
    elif why_not is not None:
        status = DeadlineState.NOT_APPLICABLE
    elif clock is None:
        status = DeadlineState.NOT_STARTED
    elif clock.paused_since is not None:
        status = DeadlineState.PAUSED
    elif deadline.kind == "due_by" and today > clock.due:
        status = DeadlineState.OVERDUE
    else:
        status = DeadlineState.PENDING

    counted = clock  # kept for the explanation of a NOT_APPLICABLE deadline
    clock = None if status is DeadlineState.NOT_APPLICABLE else clock
    due = clock.due if clock is not None else None
    on_time: bool | None = None
    late: int | None = None
    remaining: int | None = None
    rag: Rag | None = None
    if deadline.kind == "expectation":
        # Never late, never red: only whether it was met by the expected date, and how
        # far ahead the expected date still is.
        if status is DeadlineState.MET and due is not None and met_date is not None:
            on_time = met_date <= due
        elif status is DeadlineState.PENDING and due is not None and today <= due:
            remaining = calendar.working_days_between(today, due)
    elif status is DeadlineState.MET and due is not None and met_date is not None:
        if deadline.kind == "earliest":
            on_time = met_date >= due
        else:
            on_time = met_date <= due
            late = max(0, calendar.working_days_between(due, met_date))
        rag = "green" if on_time else "red"
    elif status is DeadlineState.OVERDUE and due is not None:
        late, rag = calendar.working_days_between(due, today), "red"
    elif status is DeadlineState.PENDING and due is not None and deadline.kind == "due_by":
        remaining = calendar.working_days_between(today, due)
        rag = "amber" if remaining <= thresholds.amber_within_working_days else "green"

    result = DeadlineStatus(
        name=deadline.name,
        title=deadline.title,
        source=deadline.source,
        kind=deadline.kind,
        unit=deadline.unit,
        amount=deadline.amount,
        direction=deadline.direction,
        from_fact=deadline.from_fact,
        from_date=from_date,
        met_by_fact=deadline.met_by_fact,
        met_date=met_date,
        state=status,
        due_date=due,
        on_time=on_time,
        working_days_late=late,
        working_days_remaining=remaining,
        rag=rag,
        paused_days=clock.paused_days if clock is not None else 0,
        explanation="",
    )
    trace = explain.Trace(
        rulebook=f"{rulebook.id} v{rulebook.version}",
        calendar=calendar.division.value,
        raw_due=counted.raw if counted is not None else None,
        notes=clock.notes if clock is not None else (),
        skipped=skipped(deadline, clock, calendar),
        not_applicable=why_not,
    )
    return replace(result, explanation=explain.describe(result, trace))


def evaluate_all(
    rulebook: Rulebook,
    *,
    state: str,
    facts: Mapping[str, Any],
    today: date,
    calendars: Callable[[str], WorkingDayCalendar],
    adjustments: Sequence[Adjustment] = (),
    thresholds: RagThresholds = RagThresholds(),
) -> list[DeadlineStatus]:
    """One status per deadline of the rulebook, in rulebook order (NOT_APPLICABLE too).

    `calendars(division)` gives the calendar of a division: the deadline's own
    `calendar`, else the rulebook's."""
    return [
        evaluate(
            rulebook,
            d,
            state=state,
            facts=facts,
            today=today,
            calendar=calendars(d.calendar or rulebook.calendar),
            adjustments=adjustments,
            thresholds=thresholds,
        )
        for d in rulebook.deadlines
    ]


def _why_not_applicable(deadline: DeadlineDef, state: str, facts: Mapping[str, Any]) -> str | None:
    if deadline.applies_if is not None:
        guard = GUARDS[deadline.applies_if]
        if not guard.check(facts):
            return f"it applies only if {guard.description} ({guard.name}), which is not so"
    if state not in deadline.applies_in:
        return (
            f"the case is in state {state!r}; it applies only in {', '.join(deadline.applies_in)}"
        )
    return None


def _date_fact(facts: Mapping[str, Any], name: str) -> date | None:
    value = facts.get(name)
    return None if value is None else check_date(value, f"fact {name!r}")
