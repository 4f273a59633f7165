"""UK working days for statutory deadlines.

Working Together to Safeguard Children 2023 (and the Child Safeguarding Practice Review
Panel guidance that follows it) sets review deadlines in *working days*. A working day is
Monday to Friday, excluding the bank holidays of the relevant division of the UK (England
and Wales for English partnerships), excluding any local closure a partnership adds, and
including any bank holiday the partnership has chosen to treat as a working day.

Counting rule: the trigger day (e.g. the day the partnership became aware of an incident)
is day 0, whatever kind of day it is; day 1 is the next working day after it, day 2 the one
after that, and so on. Counting backwards works the same way: day -1 is the last working
day before the trigger day. So ``add_working_days(Mon 3 Mar 2025, 5)`` is Mon 10 Mar 2025
and ``add_working_days(Thu 20 Mar 2025, -7)`` is Tue 11 Mar 2025.

Bank holidays come from the maintained ``holidays`` package (which includes substitute
days and one-off days such as the State Funeral on 19 September 2022); they are never
hand-typed here. This module is pure: standard library plus ``holidays`` only.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, date, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import holidays

__all__ = [
    "MAX_WORKING_DAYS",
    "Division",
    "NonWorkingDay",
    "WorkingDayCalendar",
    "add_months",
    "calendar_for",
]

#: Largest ``abs(n)`` accepted by :meth:`WorkingDayCalendar.add_working_days` (~38 years).
MAX_WORKING_DAYS = 10_000

_ONE_DAY = timedelta(days=1)
_WEEKEND_NAMES = {5: "Saturday", 6: "Sunday"}


class Division(StrEnum):
    """A UK bank-holiday division (the value is what is stored and configured)."""

    ENGLAND_AND_WALES = "england-and-wales"
    SCOTLAND = "scotland"
    NORTHERN_IRELAND = "northern-ireland"

    @property
    def holidays_subdiv(self) -> str:
        """The ``holidays`` package subdivision code for this division."""
        return _SUBDIVS[self]


_SUBDIVS: dict[Division, str] = {
    Division.ENGLAND_AND_WALES: "ENG",
    Division.SCOTLAND: "SCT",
    Division.NORTHERN_IRELAND: "NIR",
}


@functools.lru_cache(maxsize=512)
def _bank_holidays(subdiv: str, year: int) -> Mapping[date, str]:
    """Bank holidays (date -> name) of one division falling in one calendar year.

    Loaded lazily and cached; neighbouring years are populated too so that a substitute
    day which crosses a year boundary would still be found, then filtered to ``year``.
    Each cached mapping is read-only, so it is safe to share between threads.
    """
    years = range(max(year - 1, MINYEAR), min(year + 1, MAXYEAR) + 1)
    loaded: Any = holidays.country_holidays("GB", subdiv=subdiv, years=years)
    return MappingProxyType({d: str(name) for d, name in loaded.items() if d.year == year})


def _parse_division(division: Division | str) -> Division:
    try:
        return Division(division)
    except ValueError:
        allowed = ", ".join(repr(d.value) for d in Division)
        raise ValueError(f"unknown division {division!r}; expected one of {allowed}") from None


def _require_date(day: object, what: str = "day") -> date:
    # datetime is a subclass of date but never equals one, so it would silently miss
    # closures and overrides; insist on plain dates.
    if not isinstance(day, date) or isinstance(day, datetime):
        raise TypeError(f"{what} must be a datetime.date (not datetime), got {day!r}")
    return day


@dataclass(frozen=True)
class NonWorkingDay:
    """A day that does not count, with a human-readable reason."""

    day: date
    reason: str


_MEMO_SIZE = 8192


@dataclass(frozen=True)
class WorkingDayCalendar:
    """Working days for one division, plus a partnership's local adjustments.

    ``closures`` adds local non-working days (date -> label). ``working_overrides`` lists
    bank holidays the partnership works through; it never turns a weekend into a working
    day. A date may not be both a closure and an override.
    """

    division: Division
    # Excluded from the hash (a mapping is unhashable) but still compared by ==, so
    # calendars stay hashable and usable as cache keys.
    closures: Mapping[date, str] = field(default_factory=lambda: MappingProxyType({}), hash=False)
    working_overrides: frozenset[date] = frozenset()
    # Memos of add_working_days and working_days_between: a calendar is immutable, and
    # the same few dates are counted for every case on every command (bounded; not
    # compared, so equality and the hash are unchanged).
    _added: dict[tuple[date, int], date] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )
    _between: dict[tuple[date, date], int] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        division = _parse_division(self.division)
        closures = {
            _require_date(d, "closure date"): str(label) for d, label in self.closures.items()
        }
        overrides = frozenset(_require_date(d, "override date") for d in self.working_overrides)
        clash = sorted(set(closures) & overrides)
        if clash:
            shown = ", ".join(d.isoformat() for d in clash)
            raise ValueError(
                f"dates cannot be both a local closure and a working override: {shown}"
            )
        object.__setattr__(self, "division", division)
        object.__setattr__(self, "closures", MappingProxyType(closures))
        object.__setattr__(self, "working_overrides", overrides)

    def _bank_holiday(self, day: date) -> str | None:
        if day in self.working_overrides:
            return None
        return _bank_holidays(_SUBDIVS[self.division], day.year).get(day)

    def non_working_reason(self, day: date) -> str | None:
        """Why ``day`` is not a working day, or None if it is one.

        Weekends take precedence (a bank holiday on a Saturday is reported as "Saturday";
        its substitute day carries the "(observed)" name), then bank holidays, then local
        closures.
        """
        _require_date(day)
        weekend = _WEEKEND_NAMES.get(day.weekday())
        if weekend is not None:
            return weekend
        holiday = self._bank_holiday(day)
        if holiday is not None:
            return holiday
        label = self.closures.get(day)
        return None if label is None else f"Local closure: {label}"

    def is_working_day(self, day: date) -> bool:
        return self.non_working_reason(day) is None

    def _step(self, day: date, step: timedelta) -> date:
        day += step
        while not self.is_working_day(day):
            day += step
        return day

    def next_working_day(self, day: date) -> date:
        """The first working day strictly after ``day``."""
        return self._step(_require_date(day), _ONE_DAY)

    def working_day_on_or_before(self, day: date) -> date:
        return day if self.is_working_day(day) else self._step(day, -_ONE_DAY)

    def working_day_on_or_after(self, day: date) -> date:
        return day if self.is_working_day(day) else self._step(day, _ONE_DAY)

    def add_working_days(self, start: date, n: int) -> date:
        """Day ``n`` counting ``start`` as day 0 (see the module docstring).

        ``n == 0`` returns ``start`` unchanged even if it is not a working day.
        """
        _require_date(start, "start")
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"n must be an int, got {n!r}")
        if abs(n) > MAX_WORKING_DAYS:
            raise ValueError(f"abs(n) must be at most {MAX_WORKING_DAYS}, got {n}")
        found = self._added.get((start, n))
        if found is not None:
            return found
        step = _ONE_DAY if n > 0 else -_ONE_DAY
        day = start
        for _ in range(abs(n)):
            day = self._step(day, step)
        if len(self._added) < _MEMO_SIZE:
            self._added[(start, n)] = day
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Signed working-day distance; the inverse of :meth:`add_working_days`.

        For ``end >= start`` it counts working days ``d`` with ``start < d <= end``. For
        ``end < start`` it counts backwards the same way (``end <= d < start``) and is
        negative, so ``working_days_between(s, add_working_days(s, n)) == n`` for every n.
        """
        _require_date(start, "start")
        _require_date(end, "end")
        found = self._between.get((start, end))
        if found is not None:
            return found
        if end >= start:
            count = sum(1 for d in _days(start + _ONE_DAY, end) if self.is_working_day(d))
        else:
            count = -sum(1 for d in _days(end, start - _ONE_DAY) if self.is_working_day(d))
        if len(self._between) < _MEMO_SIZE:
            self._between[(start, end)] = count
        return count

    def skipped_days(self, start: date, end: date) -> list[NonWorkingDay]:
        """Non-working days strictly between two dates (either order), ascending."""
        low, high = sorted((_require_date(start, "start"), _require_date(end, "end")))
        result: list[NonWorkingDay] = []
        for d in _days(low + _ONE_DAY, high - _ONE_DAY):
            reason = self.non_working_reason(d)
            if reason is not None:
                result.append(NonWorkingDay(d, reason))
        return result


def _days(first: date, last: date) -> Iterator[date]:
    """Every date from ``first`` to ``last`` inclusive (nothing if last < first)."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def add_months(day: date, months: int) -> date:
    """Add calendar months, clamping to the end of a shorter month.

    31 Aug 2025 + 6 months = 28 Feb 2026; 31 Aug 2023 + 6 months = 29 Feb 2024.
    ``months`` may be negative.
    """
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    if not MINYEAR <= year <= MAXYEAR:
        raise ValueError(f"{day.isoformat()} + {months} months is out of range")
    month = month0 + 1
    last_day = 31 if month == 12 else (date(year, month + 1, 1) - _ONE_DAY).day
    return date(year, month, min(day.day, last_day))


def calendar_for(
    division: Division | str,
    closures: Mapping[date, str] | None = None,
    working_overrides: Iterable[date] = (),
) -> WorkingDayCalendar:
    """Build a calendar, validating a division given as a string."""
    return WorkingDayCalendar(
        division=_parse_division(division),
        closures=MappingProxyType(dict(closures or {})),
        working_overrides=frozenset(working_overrides),
    )
