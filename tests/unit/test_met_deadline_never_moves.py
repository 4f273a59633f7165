"""A met deadline never moves (issue 17, "Regimes and the clock"): a pause recorded after
a deadline was met must not change its due date or its lateness; pauses apply only to
deadlines still running at the pause's date.

Parametrised from the shipped rulebooks themselves: every pausable deadline of every
rulebook, so a new rulebook (or a newly pausable deadline) is covered without editing
this file. The expected values are the same deadline evaluated with no adjustments at
all (the raw rule), and counts use the calendar's own working-day arithmetic, never
the clock under test.
"""

from __future__ import annotations

from datetime import date

import pytest

from config.settings import Settings
from workflow.core.calendar import calendar_for
from workflow.core.deadlines import Adjustment, DeadlineState, due_date, evaluate
from workflow.core.rulebook import DeadlineDef, Rulebook
from workflow.runtime import load_rulebooks

REGISTRY = load_rulebooks(Settings())
PAUSABLE = [(rb, d) for rb in REGISTRY.all() for d in rb.deadlines if d.pausable]
IDS = [f"{rb.id}-v{rb.version}-{d.name}" for rb, d in PAUSABLE]
START = date(2025, 3, 3)  # Mon; the from fact (day 0)


def test_some_rulebook_has_a_pausable_deadline() -> None:
    # Guards against the parametrisation silently collecting nothing.
    assert PAUSABLE


def _evaluate(
    rb: Rulebook, d: DeadlineDef, met: date, today: date, adjustments: list[Adjustment]
) -> tuple[DeadlineState, date | None, int | None, bool | None, int]:
    s = evaluate(
        rb,
        d,
        state=d.applies_in[0],
        facts={d.from_fact: START, d.met_by_fact: met},
        today=today,
        calendar=calendar_for(d.calendar or rb.calendar),
        adjustments=adjustments,
    )
    return s.state, s.due_date, s.working_days_late, s.on_time, s.paused_days


@pytest.mark.parametrize("late_by", [0, 121])
@pytest.mark.parametrize(("rb", "d"), PAUSABLE, ids=IDS)
def test_a_pause_after_the_met_date_changes_nothing(
    rb: Rulebook, d: DeadlineDef, late_by: int
) -> None:
    cal = calendar_for(d.calendar or rb.calendar)
    unpaused_due = due_date(d, START, cal)
    met = cal.add_working_days(unpaused_due, late_by)
    today = cal.add_working_days(met, 200)
    before = _evaluate(rb, d, met, today, [])
    assert before[0] is DeadlineState.MET
    assert before[1] == unpaused_due
    after_met = cal.add_working_days(met, 3)
    closed = [
        Adjustment(d.name, "pause", after_met, "publication deferred", "Chair"),
        Adjustment(d.name, "resume", cal.add_working_days(after_met, 120), "verdict", "Chair"),
    ]
    still_open = [Adjustment(d.name, "pause", after_met, "publication deferred", "Chair")]
    assert _evaluate(rb, d, met, today, closed) == before
    assert _evaluate(rb, d, met, today, still_open) == before


@pytest.mark.parametrize(("rb", "d"), PAUSABLE, ids=IDS)
def test_a_pause_running_at_the_met_date_counts_only_up_to_it(rb: Rulebook, d: DeadlineDef) -> None:
    cal = calendar_for(d.calendar or rb.calendar)
    paused_on = cal.add_working_days(START, 2)
    met = cal.add_working_days(START, 12)
    today = cal.add_working_days(met, 200)
    adjustments = [
        Adjustment(d.name, "pause", paused_on, "trial", "Chair"),
        Adjustment(d.name, "resume", cal.add_working_days(met, 50), "verdict", "Chair"),
    ]
    state, due, _, _, paused_days = _evaluate(rb, d, met, today, adjustments)
    open_state, open_due, _, _, open_days = _evaluate(rb, d, met, today, adjustments[:1])
    # Running from its pause to its met date: 10 days of its unit, whenever it resumed.
    if d.unit.value == "working_days":
        expected = cal.working_days_between(paused_on, met)
    else:
        expected = (met - paused_on).days
    assert state is DeadlineState.MET
    assert paused_days == expected
    assert (open_state, open_due, open_days) == (state, due, paused_days)
