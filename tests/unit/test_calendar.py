"""Tests for workflow.core.calendar.

Every expected date below was worked out by hand from the domain rules (trigger day is
day 0, day 1 is the next working day; weekends and the division's bank holidays never
count), never computed with the code under test. Hand counts are in the comments.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.core.calendar import (
    MAX_WORKING_DAYS,
    Division,
    NonWorkingDay,
    WorkingDayCalendar,
    add_months,
    calendar_for,
)

ENG = calendar_for(Division.ENGLAND_AND_WALES)
SCT = calendar_for(Division.SCOTLAND)
NIR = calendar_for(Division.NORTHERN_IRELAND)


# --- worked examples from docs (England and Wales) -------------------------------------


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # Tue 4 (1), Wed 5 (2), Thu 6 (3), Fri 7 (4), Mon 10 (5)
        (date(2025, 3, 3), 5, date(2025, 3, 10)),
        # Fri 18 Good Friday, Sat, Sun, Mon 21 Easter Monday skipped;
        # Tue 22 (1), Wed 23 (2), Thu 24 (3), Fri 25 (4), Mon 28 (5)
        (date(2025, 4, 17), 5, date(2025, 4, 28)),
        # Trigger Sat 20 Dec: Mon 22 (1), Tue 23 (2), Wed 24 (3), Thu 25 Christmas,
        # Fri 26 Boxing Day, weekend, Mon 29 (4), Tue 30 (5)
        (date(2025, 12, 20), 5, date(2025, 12, 30)),
        # Tue 29 (1), Wed 30 (2), Thu 1 May (3), Fri 2 (4), Mon 5 early May BH skipped,
        # Tue 6 (5) .. Fri 9 (8), Mon 12 (9) .. Fri 16 (13), Mon 19 (14), Tue 20 (15)
        (date(2025, 4, 28), 15, date(2025, 5, 20)),
        # Wed 19 (1), Tue 18 (2), Mon 17 (3), Fri 14 (4), Thu 13 (5), Wed 12 (6), Tue 11 (7)
        (date(2025, 3, 20), -7, date(2025, 3, 11)),
    ],
)
def test_worked_examples(start: date, n: int, expected: date) -> None:
    assert ENG.add_working_days(start, n) == expected
    assert ENG.working_days_between(start, expected) == n


# --- every kind of bank holiday (England and Wales) -------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        # Easter 2024: Good Friday 29 Mar, Easter Monday 1 Apr
        (date(2024, 3, 28), date(2024, 4, 2)),
        # Early May 2024: Mon 6 May
        (date(2024, 5, 3), date(2024, 5, 7)),
        # Spring 2024: Mon 27 May
        (date(2024, 5, 24), date(2024, 5, 28)),
        # Summer (E&W: last Monday of August) 2024: Mon 26 Aug
        (date(2024, 8, 23), date(2024, 8, 27)),
        # Christmas 2024: Wed 25, Thu 26
        (date(2024, 12, 24), date(2024, 12, 27)),
        # Christmas 2020: Fri 25, Sat 26 -> substitute Mon 28
        (date(2020, 12, 24), date(2020, 12, 29)),
        # Christmas 2021: Sat 25, Sun 26 -> substitutes Mon 27, Tue 28
        (date(2021, 12, 24), date(2021, 12, 29)),
        # Christmas 2022: Sun 25 -> substitute Tue 27; Boxing Day Mon 26
        (date(2022, 12, 23), date(2022, 12, 28)),
        # New Year 2022: Sat 1 Jan -> substitute Mon 3 Jan
        (date(2021, 12, 31), date(2022, 1, 4)),
        # New Year 2023: Sun 1 Jan -> substitute Mon 2 Jan
        (date(2022, 12, 30), date(2023, 1, 3)),
        # Year end 2025: Thu 1 Jan 2026 holiday
        (date(2025, 12, 31), date(2026, 1, 2)),
        # One-off: early May moved to Fri 8 May 2020 (VE Day 75)
        (date(2020, 5, 7), date(2020, 5, 11)),
        # One-off: spring moved to Thu 2 Jun 2022 + Platinum Jubilee Fri 3 Jun 2022
        (date(2022, 6, 1), date(2022, 6, 6)),
        # One-off: State Funeral Mon 19 Sep 2022
        (date(2022, 9, 16), date(2022, 9, 20)),
        # One-off: Coronation Mon 8 May 2023
        (date(2023, 5, 5), date(2023, 5, 9)),
        # ... and the usual early May holiday Mon 1 May 2023 still applied
        (date(2023, 4, 28), date(2023, 5, 2)),
    ],
)
def test_next_working_day_skips_bank_holidays(start: date, expected: date) -> None:
    assert ENG.add_working_days(start, 1) == expected
    assert ENG.next_working_day(start) == expected
    assert ENG.add_working_days(expected, -1) == start


@pytest.mark.parametrize(
    ("day", "reason"),
    [
        (date(2025, 4, 18), "Good Friday"),
        (date(2025, 4, 21), "Easter Monday"),
        (date(2025, 12, 25), "Christmas Day"),
        (date(2025, 12, 26), "Boxing Day"),
        (date(2021, 12, 27), "Christmas Day (observed)"),
        (date(2021, 12, 28), "Boxing Day (observed)"),
        (date(2020, 12, 28), "Boxing Day (observed)"),
        (date(2022, 1, 3), "New Year's Day (observed)"),
        # A bank holiday falling on a weekend is reported as the weekend day
        (date(2021, 12, 25), "Saturday"),
        (date(2022, 12, 25), "Sunday"),
        (date(2025, 3, 10), None),
    ],
)
def test_non_working_reason_names(day: date, reason: str | None) -> None:
    assert ENG.non_working_reason(day) == reason
    assert ENG.is_working_day(day) is (reason is None)


@pytest.mark.parametrize(
    ("day", "keyword"),
    [
        (date(2022, 6, 3), "Jubilee"),
        (date(2022, 9, 19), "Funeral"),
        (date(2023, 5, 8), "Coronation"),
    ],
)
def test_one_off_days_are_named(day: date, keyword: str) -> None:
    reason = ENG.non_working_reason(day)
    assert reason is not None
    assert keyword in reason


@pytest.mark.parametrize(
    "day",
    [
        date(2020, 5, 4),  # usual early May Monday; moved to Fri 8 May in 2020
        date(2022, 5, 30),  # usual spring Monday; moved to Thu 2 Jun in 2022
        date(2025, 8, 4),  # first Monday of August: Scotland only
        date(2025, 1, 2),  # 2 January: Scotland only
    ],
)
def test_days_that_are_working_in_england(day: date) -> None:
    assert ENG.is_working_day(day)


# --- Scotland and Northern Ireland ------------------------------------------------------


@pytest.mark.parametrize(
    ("cal", "start", "expected"),
    [
        # 2 Jan 2025 (Thu) is a Scottish holiday only
        (ENG, date(2024, 12, 31), date(2025, 1, 2)),
        (SCT, date(2024, 12, 31), date(2025, 1, 3)),
        # Scotland 2022: Sat 1 + Sun 2 Jan -> substitutes Mon 3 + Tue 4
        (SCT, date(2021, 12, 31), date(2022, 1, 5)),
        # No Easter Monday in Scotland: Good Friday 18 Apr 2025 then Mon 21 is working
        (ENG, date(2025, 4, 17), date(2025, 4, 22)),
        (SCT, date(2025, 4, 17), date(2025, 4, 21)),
        (NIR, date(2025, 4, 17), date(2025, 4, 22)),
        # Summer holiday: Scotland first Monday of August (4 Aug 2025)
        (ENG, date(2025, 8, 1), date(2025, 8, 4)),
        (SCT, date(2025, 8, 1), date(2025, 8, 5)),
        # ... England last Monday of August (25 Aug 2025)
        (ENG, date(2025, 8, 22), date(2025, 8, 26)),
        (SCT, date(2025, 8, 22), date(2025, 8, 25)),
        # St Andrew's Day Sun 30 Nov 2025 -> substitute Mon 1 Dec (Scotland only)
        (SCT, date(2025, 11, 28), date(2025, 12, 2)),
        (ENG, date(2025, 11, 28), date(2025, 12, 1)),
        # St Andrew's Day Sat 30 Nov 2024 -> substitute Mon 2 Dec
        (SCT, date(2024, 11, 29), date(2024, 12, 3)),
        # St Patrick's Day Mon 17 Mar 2025 (Northern Ireland only)
        (NIR, date(2025, 3, 14), date(2025, 3, 18)),
        (ENG, date(2025, 3, 14), date(2025, 3, 17)),
        (SCT, date(2025, 3, 14), date(2025, 3, 17)),
        # St Patrick's Day Sun 17 Mar 2024 -> substitute Mon 18 Mar
        (NIR, date(2024, 3, 15), date(2024, 3, 19)),
        # Battle of the Boyne Fri 12 Jul 2024
        (NIR, date(2024, 7, 11), date(2024, 7, 15)),
        (ENG, date(2024, 7, 11), date(2024, 7, 12)),
        # Battle of the Boyne Sat 12 Jul 2025 -> substitute Mon 14 Jul
        (NIR, date(2025, 7, 11), date(2025, 7, 15)),
    ],
)
def test_divisions_differ(cal: WorkingDayCalendar, start: date, expected: date) -> None:
    assert cal.add_working_days(start, 1) == expected


def test_scottish_easter_worked_example() -> None:
    # Thu 17 Apr 2025 +5 in Scotland: Fri 18 Good Friday, weekend,
    # Mon 21 (1), Tue 22 (2), Wed 23 (3), Thu 24 (4), Fri 25 (5)
    assert SCT.add_working_days(date(2025, 4, 17), 5) == date(2025, 4, 25)


# --- year ends, leap years, weekends, n == 0, backwards ---------------------------------


def test_leap_day_is_a_working_day() -> None:
    assert ENG.is_working_day(date(2024, 2, 29))
    assert ENG.add_working_days(date(2024, 2, 28), 1) == date(2024, 2, 29)
    assert ENG.add_working_days(date(2024, 2, 28), 2) == date(2024, 3, 1)
    assert ENG.add_working_days(date(2024, 3, 1), -1) == date(2024, 2, 29)
    # Feb 2024 weekdays: Thu 1, Fri 2, 5-9, 12-16, 19-23, 26-29 = 21; minus 1 Feb, plus Fri 1 Mar
    assert ENG.working_days_between(date(2024, 2, 1), date(2024, 3, 1)) == 21
    # Feb 2023 weekdays: Wed 1-Fri 3, 6-10, 13-17, 20-24, 27-28 = 20; minus 1 Feb, plus Wed 1 Mar
    assert ENG.working_days_between(date(2023, 2, 1), date(2023, 3, 1)) == 20


def test_backwards_across_year_end() -> None:
    # Mon 5 Jan 2026 -3: Fri 2 Jan (1), Thu 1 Jan holiday, Wed 31 Dec (2), Tue 30 Dec (3)
    assert ENG.add_working_days(date(2026, 1, 5), -3) == date(2025, 12, 30)
    # Tue 22 Apr 2025 -1: Mon 21 Easter Monday, weekend, Fri 18 Good Friday -> Thu 17
    assert ENG.add_working_days(date(2025, 4, 22), -1) == date(2025, 4, 17)


def test_start_on_weekend_or_bank_holiday() -> None:
    assert ENG.add_working_days(date(2025, 3, 8), 1) == date(2025, 3, 10)  # Sat -> Mon
    assert ENG.add_working_days(date(2025, 3, 9), -1) == date(2025, 3, 7)  # Sun -> Fri
    assert ENG.add_working_days(date(2025, 4, 18), 1) == date(2025, 4, 22)  # Good Friday
    assert ENG.add_working_days(date(2025, 4, 21), -1) == date(2025, 4, 17)  # Easter Monday


def test_n_zero_returns_start_unchanged() -> None:
    assert ENG.add_working_days(date(2025, 12, 20), 0) == date(2025, 12, 20)  # a Saturday
    assert ENG.add_working_days(date(2025, 3, 3), 0) == date(2025, 3, 3)


def test_on_or_before_and_after() -> None:
    assert ENG.working_day_on_or_before(date(2025, 12, 20)) == date(2025, 12, 19)
    assert ENG.working_day_on_or_after(date(2025, 12, 20)) == date(2025, 12, 22)
    # Thu 25 Christmas, Fri 26 Boxing Day, weekend -> Mon 29
    assert ENG.working_day_on_or_after(date(2025, 12, 25)) == date(2025, 12, 29)
    assert ENG.working_day_on_or_before(date(2025, 12, 28)) == date(2025, 12, 24)
    assert ENG.working_day_on_or_before(date(2025, 3, 3)) == date(2025, 3, 3)
    assert ENG.working_day_on_or_after(date(2025, 3, 3)) == date(2025, 3, 3)
    assert ENG.next_working_day(date(2025, 3, 3)) == date(2025, 3, 4)
    assert ENG.next_working_day(date(2025, 12, 24)) == date(2025, 12, 29)


def test_working_days_between_is_signed() -> None:
    assert ENG.working_days_between(date(2025, 3, 3), date(2025, 3, 10)) == 5
    # Backwards counts 3..7 Mar (end inclusive, start exclusive): -5
    assert ENG.working_days_between(date(2025, 3, 10), date(2025, 3, 3)) == -5
    # Between Tue 11 and Thu 20 Mar: 12, 13, 14, 17, 18, 19, 20
    assert ENG.working_days_between(date(2025, 3, 11), date(2025, 3, 20)) == 7
    assert ENG.working_days_between(date(2025, 3, 20), date(2025, 3, 11)) == -7
    assert ENG.working_days_between(date(2025, 12, 20), date(2025, 12, 30)) == 5
    assert ENG.working_days_between(date(2025, 12, 20), date(2025, 12, 20)) == 0
    assert ENG.working_days_between(date(2025, 12, 20), date(2025, 12, 21)) == 0


# --- add_months -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 8, 31), 6, date(2026, 2, 28)),  # non-leap February
        (date(2023, 8, 31), 6, date(2024, 2, 29)),  # leap February
        (date(2025, 1, 31), 1, date(2025, 2, 28)),
        (date(2024, 1, 31), 1, date(2024, 2, 29)),
        (date(2025, 3, 31), -1, date(2025, 2, 28)),
        (date(2025, 3, 15), -3, date(2024, 12, 15)),
        (date(2025, 5, 31), -13, date(2024, 4, 30)),
        (date(2025, 11, 30), 2, date(2026, 1, 30)),
        (date(2025, 10, 31), 12, date(2026, 10, 31)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2025, 12, 31), 0, date(2025, 12, 31)),
        (date(9999, 11, 30), 1, date(9999, 12, 30)),
    ],
)
def test_add_months(day: date, months: int, expected: date) -> None:
    assert add_months(day, months) == expected


def test_add_months_out_of_range() -> None:
    with pytest.raises(ValueError, match="out of range"):
        add_months(date(9999, 12, 1), 1)


# --- local closures and working overrides -----------------------------------------------


def test_local_closure_pushes_deadline() -> None:
    cal = calendar_for("england-and-wales", closures={date(2025, 3, 10): "Staff training day"})
    # Tue 4 (1) .. Fri 7 (4), Mon 10 closed, Tue 11 (5)
    assert cal.add_working_days(date(2025, 3, 3), 5) == date(2025, 3, 11)
    assert cal.non_working_reason(date(2025, 3, 10)) == "Local closure: Staff training day"
    assert ENG.add_working_days(date(2025, 3, 3), 5) == date(2025, 3, 10)


def test_working_override_removes_bank_holiday() -> None:
    cal = calendar_for(Division.ENGLAND_AND_WALES, working_overrides=[date(2025, 4, 21)])
    assert cal.is_working_day(date(2025, 4, 21))
    # Mon 21 now counts: Mon 21 (1), Tue 22 (2), Wed 23 (3), Thu 24 (4), Fri 25 (5)
    assert cal.add_working_days(date(2025, 4, 17), 5) == date(2025, 4, 25)
    assert cal.non_working_reason(date(2025, 4, 18)) == "Good Friday"


def test_override_never_makes_a_weekend_working() -> None:
    cal = calendar_for("england-and-wales", working_overrides={date(2021, 12, 25)})
    assert cal.non_working_reason(date(2021, 12, 25)) == "Saturday"


def test_closure_and_override_on_same_date_rejected() -> None:
    with pytest.raises(ValueError, match="2025-04-21"):
        calendar_for("england-and-wales", {date(2025, 4, 21): "x"}, [date(2025, 4, 21)])


def test_calendar_copies_closures() -> None:
    closures = {date(2025, 3, 10): "Training"}
    cal = calendar_for("england-and-wales", closures)
    closures[date(2025, 3, 11)] = "Added later"
    assert cal.is_working_day(date(2025, 3, 11))
    direct = WorkingDayCalendar(Division.SCOTLAND, closures=closures)
    closures.clear()
    assert not direct.is_working_day(date(2025, 3, 10))


def test_calendars_are_hashable_and_compare_by_value() -> None:
    a = calendar_for("scotland", {date(2025, 3, 10): "Training"}, [date(2025, 1, 2)])
    b = calendar_for(Division.SCOTLAND, {date(2025, 3, 10): "Training"}, {date(2025, 1, 2)})
    assert a == b
    assert hash(a) == hash(b)
    assert a != calendar_for("scotland", {date(2025, 3, 10): "Other"}, [date(2025, 1, 2)])
    assert len({a, b, SCT}) == 2


# --- skipped_days -----------------------------------------------------------------------


def test_skipped_days_easter() -> None:
    expected = [
        NonWorkingDay(date(2025, 4, 18), "Good Friday"),
        NonWorkingDay(date(2025, 4, 19), "Saturday"),
        NonWorkingDay(date(2025, 4, 20), "Sunday"),
        NonWorkingDay(date(2025, 4, 21), "Easter Monday"),
        NonWorkingDay(date(2025, 4, 26), "Saturday"),
        NonWorkingDay(date(2025, 4, 27), "Sunday"),
    ]
    assert ENG.skipped_days(date(2025, 4, 17), date(2025, 4, 28)) == expected
    assert ENG.skipped_days(date(2025, 4, 28), date(2025, 4, 17)) == expected


def test_skipped_days_substitutes_and_closures() -> None:
    cal = calendar_for("england-and-wales", closures={date(2021, 12, 29): "Office closed"})
    assert cal.skipped_days(date(2021, 12, 24), date(2021, 12, 31)) == [
        NonWorkingDay(date(2021, 12, 25), "Saturday"),
        NonWorkingDay(date(2021, 12, 26), "Sunday"),
        NonWorkingDay(date(2021, 12, 27), "Christmas Day (observed)"),
        NonWorkingDay(date(2021, 12, 28), "Boxing Day (observed)"),
        NonWorkingDay(date(2021, 12, 29), "Local closure: Office closed"),
    ]


def test_skipped_days_empty_and_exclusive() -> None:
    assert ENG.skipped_days(date(2025, 3, 3), date(2025, 3, 7)) == []
    assert ENG.skipped_days(date(2025, 12, 20), date(2025, 12, 20)) == []
    # Endpoints are never listed, even when they are non-working
    assert ENG.skipped_days(date(2025, 12, 20), date(2025, 12, 22)) == [
        NonWorkingDay(date(2025, 12, 21), "Sunday"),
    ]


# --- validation -------------------------------------------------------------------------


def test_absurd_n_rejected() -> None:
    with pytest.raises(ValueError, match="10000"):
        ENG.add_working_days(date(2025, 1, 1), MAX_WORKING_DAYS + 1)
    with pytest.raises(ValueError, match="10000"):
        ENG.add_working_days(date(2025, 1, 1), -MAX_WORKING_DAYS - 1)


def test_largest_n_is_accepted() -> None:
    start = date(2025, 1, 1)
    result = ENG.add_working_days(start, MAX_WORKING_DAYS)
    assert ENG.is_working_day(result)
    assert ENG.working_days_between(start, result) == MAX_WORKING_DAYS


def test_unknown_division_lists_allowed_values() -> None:
    with pytest.raises(ValueError, match="england-and-wales") as excinfo:
        calendar_for("wales")
    assert "scotland" in str(excinfo.value)
    assert "northern-ireland" in str(excinfo.value)
    assert calendar_for("northern-ireland").division is Division.NORTHERN_IRELAND


def test_datetimes_rejected() -> None:
    with pytest.raises(TypeError):
        ENG.is_working_day(datetime(2025, 3, 3, 9, 0))
    with pytest.raises(TypeError):
        ENG.add_working_days(datetime(2025, 3, 3, 9, 0), 1)


# --- properties -------------------------------------------------------------------------

dates = st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31))
divisions = st.sampled_from([ENG, SCT, NIR])
counts = st.integers(min_value=0, max_value=60)


@settings(deadline=None)
@given(cal=divisions, start=dates, n=st.integers(min_value=1, max_value=60))
def test_result_is_a_working_day(cal: WorkingDayCalendar, start: date, n: int) -> None:
    result = cal.add_working_days(start, n)
    assert cal.is_working_day(result)
    assert result > start
    back = cal.add_working_days(start, -n)
    assert cal.is_working_day(back)
    assert back < start


@settings(deadline=None)
@given(cal=divisions, start=dates, n=st.integers(min_value=1, max_value=60))
def test_round_trip(cal: WorkingDayCalendar, start: date, n: int) -> None:
    forward = cal.add_working_days(start, n)
    assert cal.add_working_days(forward, -n) == cal.working_day_on_or_before(start)


@settings(deadline=None)
@given(cal=divisions, start=dates, n=st.integers(min_value=-60, max_value=60))
def test_between_inverts_add(cal: WorkingDayCalendar, start: date, n: int) -> None:
    assert cal.working_days_between(start, cal.add_working_days(start, n)) == n


@settings(deadline=None)
@given(cal=divisions, start=dates, n=counts)
def test_monotonic_in_n(cal: WorkingDayCalendar, start: date, n: int) -> None:
    assert cal.add_working_days(start, n) < cal.add_working_days(start, n + 1)
    assert cal.add_working_days(start, -n) > cal.add_working_days(start, -n - 1)


@settings(deadline=None)
@given(cal=divisions, start=dates, offset=st.integers(min_value=-90, max_value=90))
def test_skipped_days_account_for_the_gap(
    cal: WorkingDayCalendar, start: date, offset: int
) -> None:
    end = start + timedelta(days=offset)
    skipped = cal.skipped_days(start, end)
    assert all(not cal.is_working_day(s.day) for s in skipped)
    assert [s.day for s in skipped] == sorted(s.day for s in skipped)
    interior = max(abs(offset) - 1, 0)
    # working_days_between counts the interior plus `end` itself (in either direction).
    counted = abs(cal.working_days_between(start, end))
    end_counted = 1 if offset != 0 and cal.is_working_day(end) else 0
    assert len(skipped) + counted - end_counted == interior
    assert all(s.day.weekday() < 5 or s.reason in {"Saturday", "Sunday"} for s in skipped)
