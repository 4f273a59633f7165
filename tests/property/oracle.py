"""An independent statement of the main statutory deadlines, for the property tests.

Written from docs (domain.md, Working Together 2023 ch.5, WT2015 ch.4), NOT from the
engine: working days are counted here with the `holidays` package and
config/calendar.yaml read directly (never workflow/core/calendar.py), and the rules are a
table in this file (never the rulebook loader). If the engine and this file disagree,
one of them is wrong.

Counting: the trigger day is day 0; day 1 is the next working day (Mon-Fri, not an
England-and-Wales bank holiday, not a configured closure; a bank holiday configured as a
working day counts).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import holidays
import yaml

CALENDAR_FILE = Path(__file__).resolve().parents[2] / "config" / "calendar.yaml"


@functools.cache
def _local_changes(partnership: str | None) -> tuple[frozenset[date], frozenset[date]]:
    """(closures, bank holidays worked) for England and Wales, plus the partnership's."""
    raw = yaml.safe_load(CALENDAR_FILE.read_text(encoding="utf-8")) or {}
    parts = [(raw.get("divisions") or {}).get("england-and-wales") or {}]
    if partnership is not None:
        parts.append((raw.get("partnerships") or {}).get(partnership) or {})
    closures = {date.fromisoformat(str(d)) for p in parts for d in (p.get("closures") or {})}
    worked = {date.fromisoformat(str(d)) for p in parts for d in (p.get("working_days") or [])}
    return frozenset(closures), frozenset(worked)


@functools.cache
def _bank_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("GB", subdiv="ENG", years=year))


def is_working_day(day: date, partnership: str | None = None) -> bool:
    closures, worked = _local_changes(partnership)
    if day in closures:
        return False
    if day in worked:
        return True
    return day.weekday() < 5 and day not in _bank_holidays(day.year)


def add_working_days(start: date, amount: int, partnership: str | None = None) -> date:
    """`amount` working days after `start` (day 0), by walking the calendar a day at a time."""
    day, counted = start, 0
    while counted < amount:
        day += timedelta(days=1)
        if is_working_day(day, partnership):
            counted += 1
    return day


@dataclass(frozen=True)
class MainDeadline:
    """A working-day deadline as the guidance states it."""

    name: str
    working_days: int
    from_fact: str
    met_by_fact: str
    live_in: frozenset[str]  # states in which it is still to be met
    needs_review_criteria: bool = False  # a rapid review is owed only for serious incidents


def _notify(name: str) -> MainDeadline:
    return MainDeadline(name, 5, "aware_date", "notification_date", frozenset({"notification_due"}))


def _rapid_review(from_fact: str) -> MainDeadline:
    live = frozenset({"notification_due", "rapid_review"})
    return MainDeadline("rapid_review_sent", 15, from_fact, "rapid_review_sent_date", live, True)


# rulebook id -> the deadlines checked independently.
MAIN_DEADLINES: dict[str, tuple[MainDeadline, ...]] = {
    # WT2015 ch.4: the LA tells Ofsted within 5 working days of becoming aware.
    "england-scr-2015": (_notify("ofsted_notification"),),
    # WT2018/2023 ch.5: SIN within 5 working days; rapid review within 15 working days
    # of awareness (older procedures) ...
    "england-2018": (_notify("panel_notification"), _rapid_review("aware_date")),
    "england-2023": (_notify("panel_notification"), _rapid_review("aware_date")),
    # ... or of the notification being sent (Panel guidance 2025).
    "england-panel-2025": (_notify("panel_notification"), _rapid_review("notification_date")),
    # WT2006/2010/2013 set no working-day limit the oracle could check: their deadlines
    # are expectations (never overdue), tested in tests/unit/test_historic_regimes.py.
    "england-scr-2006": (),
    "england-scr-2010": (),
    "england-scr-2013": (),
}


@dataclass(frozen=True)
class Expected:
    state: str  # met | not_applicable | not_started | pending | overdue
    due: date | None
    on_time: bool | None


def expected(
    rule: MainDeadline, *, state: str, facts: dict[str, Any], today: date, partnership: str
) -> Expected:
    """What the deadline's status must be for a case in `state` with `facts`, today."""
    start, met = facts.get(rule.from_fact), facts.get(rule.met_by_fact)
    due = add_working_days(start, rule.working_days, partnership) if start else None
    if met is not None:
        return Expected("met", due, None if due is None else met <= due)
    if state not in rule.live_in or (
        rule.needs_review_criteria and not facts.get("meets_review_criteria")
    ):
        return Expected("not_applicable", None, None)
    if due is None:
        return Expected("not_started", None, None)
    return Expected("overdue" if today > due else "pending", due, None)
