"""Tests for workflow.core.deadlines through the shipped rulebook data (pure, no database).

Every expected date below was counted by hand from the domain rules (domain.md, "Working
days": the trigger day is day 0, day 1 is the next working day; weekends and the England
and Wales bank holidays never count) and written in the comments; none is computed with
the code under test. Month rules add calendar months; calendar-day rules add days.

England and Wales bank holidays used below:
  2016: Mon 26 Dec (Boxing Day), Tue 27 Dec (Christmas Day, substitute)
  2017: Mon 2 Jan (New Year's Day, substitute)
  2018: Mon 1 Jan
  2019: Mon 6 May (early May), Mon 27 May (spring)
  2024: Fri 29 Mar (Good Friday), Mon 1 Apr (Easter Monday)
  2025: Fri 18 Apr, Mon 21 Apr (Easter), Mon 5 May (early May), Thu 25 / Fri 26 Dec
  2026: Thu 1 Jan (Scotland also Fri 2 Jan)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import pytest

from config.settings import Settings
from workflow.core.calendar import Division, WorkingDayCalendar, calendar_for
from workflow.core.deadlines import (
    Adjustment,
    DeadlineState,
    DeadlineStatus,
    RagThresholds,
    due_date,
    evaluate,
    evaluate_all,
)
from workflow.core.rulebook import DeadlineDef, DeadlineUnit, Rulebook, RulebookRegistry
from workflow.runtime import load_rulebooks

ENG = calendar_for(Division.ENGLAND_AND_WALES)
SCT = calendar_for(Division.SCOTLAND)
REGISTRY = load_rulebooks(Settings())

S = DeadlineState


def rulebook(rulebook_id: str) -> Rulebook:
    return REGISTRY.get(rulebook_id)


def deadline(rb: Rulebook, name: str) -> DeadlineDef:
    return next(d for d in rb.deadlines if d.name == name)


def ev(
    rulebook_id: str,
    name: str,
    *,
    state: str,
    today: date,
    adjustments: Sequence[Adjustment] = (),
    thresholds: RagThresholds = RagThresholds(),
    **facts: Any,
) -> DeadlineStatus:
    rb = rulebook(rulebook_id)
    return evaluate(
        rb,
        deadline(rb, name),
        state=state,
        facts=facts,
        today=today,
        calendar=ENG,
        adjustments=adjustments,
        thresholds=thresholds,
    )


def pause(name: str, day: date, reason: str = "criminal trial", by: str = "Chair") -> Adjustment:
    return Adjustment(name, "pause", day, reason, by)


def resume(name: str, day: date, reason: str = "verdict", by: str = "Chair") -> Adjustment:
    return Adjustment(name, "resume", day, reason, by)


def extend(name: str, day: date, reason: str = "agreed", by: str = "Panel") -> Adjustment:
    return Adjustment(name, "extension", day, reason, by)


# --- the worked examples of domain.md, through the real rulebook data -------------------


@pytest.mark.parametrize(
    ("aware", "expected"),
    [
        # Tue 4 (1), Wed 5 (2), Thu 6 (3), Fri 7 (4), Mon 10 (5)
        (date(2025, 3, 3), date(2025, 3, 10)),
        # Good Friday 18, Sat, Sun, Easter Monday 21 skipped; Tue 22 (1) .. Fri 25 (4), Mon 28 (5)
        (date(2025, 4, 17), date(2025, 4, 28)),
        # Mon 22 (1), Tue 23 (2), Wed 24 (3), Christmas 25, Boxing Day 26, weekend,
        # Mon 29 (4), Tue 30 (5)
        (date(2025, 12, 20), date(2025, 12, 30)),
    ],
)
def test_worked_examples_notification(aware: date, expected: date) -> None:
    rb = rulebook("england-2023")
    assert due_date(deadline(rb, "panel_notification"), aware, ENG) == expected
    status = ev(
        "england-2023",
        "panel_notification",
        state="notification_due",
        today=aware,
        aware_date=aware,
    )
    assert status.due_date == expected
    assert status.state is S.PENDING


def test_worked_example_rapid_review_from_notification_panel_2025() -> None:
    # Tue 29 Apr (1), Wed 30 (2), Thu 1 May (3), Fri 2 (4), Mon 5 early May bank holiday,
    # Tue 6 (5) .. Fri 9 (8), Mon 12 (9) .. Fri 16 (13), Mon 19 (14), Tue 20 May (15)
    rb = rulebook("england-panel-2025")
    assert due_date(deadline(rb, "rapid_review_sent"), date(2025, 4, 28), ENG) == date(2025, 5, 20)


def test_worked_example_report_before_publication() -> None:
    # Counting back from Thu 20 Mar 2025: Wed 19 (1), Tue 18 (2), Mon 17 (3), Fri 14 (4),
    # Thu 13 (5), Wed 12 (6), Tue 11 (7)
    rb = rulebook("england-2023")
    d = deadline(rb, "report_to_panel_before_publication")
    assert (d.direction, d.amount, d.unit) == ("before", 7, DeadlineUnit.WORKING_DAYS)
    assert due_date(d, date(2025, 3, 20), ENG) == date(2025, 3, 11)


# --- a case walked through england-2023 (2024 dates) ------------------------------------
#
# aware Thu 21 Mar 2024. +5 working days: Fri 22 (1), Mon 25 (2), Tue 26 (3), Wed 27 (4),
# Thu 28 Mar (5). +15: ... Thu 28 (5), Good Friday 29, weekend, Easter Monday 1 Apr,
# Tue 2 (6), Wed 3 (7), Thu 4 (8), Fri 5 (9), Mon 8 (10), Tue 9 (11), Wed 10 (12),
# Thu 11 (13), Fri 12 (14), Mon 15 Apr (15).
# decision (local review) Mon 22 Apr 2024: + 6 months = Tue 22 Oct 2024.
# Publication deferred Mon 14 Oct, resumed Mon 4 Nov 2024: 17 + 4 = 21 calendar days,
# so Tue 22 Oct + 21 days = Tue 12 Nov 2024.
# Report sent Thu 10 Oct 2024; planned publication Mon 11 Nov 2024; 7 working days
# before: Fri 8 (1), Thu 7 (2), Wed 6 (3), Tue 5 (4), Mon 4 (5), Fri 1 Nov (6),
# Thu 31 Oct (7). Published Mon 11 Nov 2024: + 12 months = Tue 11 Nov 2025.

CASE_2023: dict[str, Any] = {
    "notifiable": True,
    "meets_review_criteria": True,
    "aware_date": date(2024, 3, 21),
    "notification_date": date(2024, 3, 26),
    "partners_informed_date": date(2024, 4, 2),
    "rapid_review_sent_date": date(2024, 4, 15),
    "decision": "local_review",
    "decision_date": date(2024, 4, 22),
    "report_sent_to_panel_date": date(2024, 10, 10),
    "planned_publication_date": date(2024, 11, 11),
    "published_date": date(2024, 11, 11),
}
DEFERRAL = (
    pause("lcspr_published", date(2024, 10, 14), "criminal trial", "Chair, case review group"),
    resume("lcspr_published", date(2024, 11, 4), "verdict given", "Chair, case review group"),
)


def _walk_2023(
    today: date, state: str = "action_plan_monitoring", **changes: Any
) -> dict[str, DeadlineStatus]:
    facts = {**CASE_2023, **changes}
    statuses = evaluate_all(
        rulebook("england-2023"),
        state=state,
        facts=facts,
        today=today,
        calendars=calendar_for,
        adjustments=DEFERRAL,
    )
    return {s.name: s for s in statuses}


def test_case_2023_each_deadline_met_or_missed_as_counted_by_hand() -> None:
    got = _walk_2023(date(2025, 3, 3))
    assert list(got) == [
        "panel_notification",
        "partners_informed",
        "rapid_review_sent",
        "lcspr_published",
        "report_to_panel_before_publication",
        "report_stays_published",
        "panel_response_expected",
    ]

    n = got["panel_notification"]  # due Thu 28 Mar, notified Tue 26 Mar
    assert (n.state, n.due_date, n.on_time, n.working_days_late, n.rag) == (
        S.MET,
        date(2024, 3, 28),
        True,
        0,
        "green",
    )

    p = got["partners_informed"]  # due Thu 28 Mar; Tue 2 Apr is 1 working day later
    assert (p.state, p.due_date, p.on_time, p.working_days_late, p.rag) == (
        S.MET,
        date(2024, 3, 28),
        False,
        1,
        "red",
    )

    r = got["rapid_review_sent"]  # due Mon 15 Apr, sent that day: on time
    assert (r.state, r.due_date, r.on_time, r.working_days_late) == (
        S.MET,
        date(2024, 4, 15),
        True,
        0,
    )

    lc = got["lcspr_published"]  # Tue 22 Oct + 21 paused days = Tue 12 Nov; published 11 Nov
    assert (lc.state, lc.due_date, lc.on_time, lc.paused_days) == (
        S.MET,
        date(2024, 11, 12),
        True,
        21,
    )

    b = got["report_to_panel_before_publication"]  # due Thu 31 Oct; sent Thu 10 Oct
    assert (b.state, b.due_date, b.on_time, b.direction) == (
        S.MET,
        date(2024, 10, 31),
        True,
        "before",
    )

    e = got["report_stays_published"]  # earliest withdrawal Tue 11 Nov 2025
    assert (e.state, e.kind, e.due_date, e.rag, e.working_days_remaining) == (
        S.PENDING,
        "earliest",
        date(2025, 11, 11),
        None,
        None,
    )
    assert "may be withdrawn from Tue 11 Nov 2025" in e.explanation


def test_case_2023_missed_variants() -> None:
    # Without the deferral the review would have been due Tue 22 Oct 2024: published
    # Mon 11 Nov is late by Wed 23, Thu 24, Fri 25, Mon 28 .. Thu 31 Oct, Fri 1,
    # Mon 4 .. Fri 8, Mon 11 Nov = 3 + 5 + 6 = 14 working days.
    facts = {**CASE_2023}
    rb = rulebook("england-2023")
    late = evaluate(
        rb,
        deadline(rb, "lcspr_published"),
        state="action_plan_monitoring",
        facts=facts,
        today=date(2025, 3, 3),
        calendar=ENG,
    )
    assert (late.due_date, late.on_time, late.working_days_late, late.rag) == (
        date(2024, 10, 22),
        False,
        14,
        "red",
    )
    # Report sent Fri 1 Nov 2024, one working day after the Thu 31 Oct limit.
    sent_late = _walk_2023(date(2025, 3, 3), report_sent_to_panel_date=date(2024, 11, 1))
    b = sent_late["report_to_panel_before_publication"]
    assert (b.on_time, b.working_days_late, b.rag) == (False, 1, "red")


@pytest.mark.parametrize(
    ("withdrawn", "on_time", "rag"),
    [
        (date(2025, 11, 10), False, "red"),  # Mon 10 Nov 2025: a day before the earliest date
        (date(2025, 11, 11), True, "green"),  # Tue 11 Nov 2025: exactly 12 months
    ],
)
def test_earliest_kind_met(withdrawn: date, on_time: bool, rag: str) -> None:
    got = _walk_2023(date(2025, 12, 1), state="closed", withdrawn_date=withdrawn)
    e = got["report_stays_published"]
    assert (e.state, e.on_time, e.rag, e.due_date) == (S.MET, on_time, rag, date(2025, 11, 11))
    assert e.working_days_late is None


def test_earliest_kind_is_never_overdue() -> None:
    got = _walk_2023(date(2026, 6, 1), state="closed")  # long after Tue 11 Nov 2025
    assert got["report_stays_published"].state is S.PENDING


def test_met_deadlines_stay_visible_when_the_case_moves_on() -> None:
    got = _walk_2023(date(2026, 1, 5), state="closed")
    assert got["panel_notification"].state is S.MET
    assert got["rapid_review_sent"].state is S.MET
    assert got["lcspr_published"].state is S.MET


def test_case_2023_explanation_names_fact_rule_source_and_skipped_days() -> None:
    r = _walk_2023(date(2025, 3, 3))["rapid_review_sent"]
    text = r.explanation
    assert text.startswith("Met on time on Mon 15 Apr 2024 (rapid_review_sent_date).")
    assert "Due Mon 15 Apr 2024: 15 working days after aware_date (Thu 21 Mar 2024)." in text
    assert "Source: Working Together 2023 ch.5" in text
    assert "Rulebook england-2023 v2, calendar england-and-wales." in text
    assert (
        "Non-working days skipped: Sat 23 Mar 2024 (Saturday), Sun 24 Mar 2024 (Sunday), "
        "Fri 29 Mar 2024 (Good Friday), Sat 30 Mar 2024 (Saturday), "
        "Sun 31 Mar 2024 (Sunday), Mon 1 Apr 2024 (Easter Monday), "
        "Sat 6 Apr 2024 (Saturday), Sun 7 Apr 2024 (Sunday), "
        "Sat 13 Apr 2024 (Saturday), Sun 14 Apr 2024 (Sunday)."
    ) in text


def test_pause_in_explanation_with_reason_and_approver() -> None:
    text = _walk_2023(date(2025, 3, 3))["lcspr_published"].explanation
    assert "Rule: 6 months after decision_date (Mon 22 Apr 2024) gives Tue 22 Oct 2024." in text
    assert (
        "Paused Mon 14 Oct 2024 (criminal trial; approved by Chair, case review group) "
        "until resumed Mon 4 Nov 2024 (verdict given; approved by Chair, case review "
        "group): +21 calendar days, so Tue 22 Oct 2024 becomes Tue 12 Nov 2024."
    ) in text
    assert "Due Tue 12 Nov 2024." in text
    assert "Non-working days skipped" not in text  # a month rule skips nothing


# --- england-2018 (2019 dates) ----------------------------------------------------------


def test_case_2018() -> None:
    # aware Fri 3 May 2019; early May bank holiday Mon 6. +5: Tue 7 (1), Wed 8 (2),
    # Thu 9 (3), Fri 10 (4), Mon 13 May (5). Notified Tue 14 May: 1 working day late.
    # +15: ... Mon 13 (5), Tue 14 (6) .. Fri 17 (9), Mon 20 (10) .. Fri 24 (14),
    # spring bank holiday Mon 27, Tue 28 May (15). Rapid review sent Fri 24 May: on time.
    facts: dict[str, Any] = {
        "notifiable": True,
        "meets_review_criteria": True,
        "aware_date": date(2019, 5, 3),
        "notification_date": date(2019, 5, 14),
        "rapid_review_sent_date": date(2019, 5, 24),
    }
    rb = rulebook("england-2018")
    got = {
        s.name: s
        for s in evaluate_all(
            rb, state="decision_due", facts=facts, today=date(2019, 5, 29), calendars=calendar_for
        )
    }
    n, r = got["panel_notification"], got["rapid_review_sent"]
    assert (n.due_date, n.on_time, n.working_days_late) == (date(2019, 5, 13), False, 1)
    assert (r.due_date, r.on_time) == (date(2019, 5, 28), True)
    assert "Mon 6 May 2019 (May Day)" in n.explanation
    assert "Mon 27 May 2019 (Spring Bank Holiday)" in r.explanation
    assert "Working Together 2018 ch.4" in r.source
    # partners never informed, still in a state where it can be recorded: overdue since
    # Mon 13 May; Tue 14 .. Fri 17, Mon 20 .. Fri 24, Tue 28, Wed 29 = 11 working days
    p = got["partners_informed"]
    assert (p.state, p.working_days_late, p.rag) == (S.OVERDUE, 11, "red")


# --- the same case under england-2023 and england-panel-2025 ----------------------------


def test_rapid_review_clock_start_differs_between_rulebooks() -> None:
    # aware Thu 17 Apr 2025, notified Mon 28 Apr 2025, rapid review sent Fri 16 May 2025.
    # From awareness (england-2023): Easter Fri 18 - Mon 21 skipped; Tue 22 (1) .. Fri 25 (4),
    # Mon 28 (5) .. Fri 2 May (9), early May bank holiday Mon 5, Tue 6 (10) .. Fri 9 (13),
    # Mon 12 (14), Tue 13 May (15): sent Fri 16 is late by Wed 14, Thu 15, Fri 16 = 3.
    # From notification (england-panel-2025): Tue 20 May (worked example): on time.
    facts: dict[str, Any] = {
        "notifiable": True,
        "meets_review_criteria": True,
        "aware_date": date(2025, 4, 17),
        "notification_date": date(2025, 4, 28),
        "rapid_review_sent_date": date(2025, 5, 16),
    }
    old = ev(
        "england-2023", "rapid_review_sent", state="decision_due", today=date(2025, 5, 16), **facts
    )
    new = ev(
        "england-panel-2025",
        "rapid_review_sent",
        state="decision_due",
        today=date(2025, 5, 16),
        **facts,
    )
    assert (old.from_fact, old.due_date, old.on_time, old.working_days_late) == (
        "aware_date",
        date(2025, 5, 13),
        False,
        3,
    )
    assert (new.from_fact, new.due_date, new.on_time, new.working_days_late) == (
        "notification_date",
        date(2025, 5, 20),
        True,
        0,
    )
    assert rulebook("england-panel-2025").rapid_review_clock_start == "notification_date"
    assert "guidance for safeguarding partners (June 2025)" in new.source


def test_rapid_review_not_started_until_notification_under_panel_2025() -> None:
    status = ev(
        "england-panel-2025",
        "rapid_review_sent",
        state="notification_due",
        today=date(2025, 4, 22),
        notifiable=True,
        meets_review_criteria=True,
        aware_date=date(2025, 4, 17),
    )
    assert (status.state, status.due_date, status.rag) == (S.NOT_STARTED, None, None)
    assert status.explanation.startswith("Not started: notification_date is not recorded yet.")


# --- england-scr-2015 (2016-2019 dates) -------------------------------------------------
#
# aware Thu 22 Dec 2016. +5 working days: Fri 23 (1); Sat 24, Sun 25, Boxing Day Mon 26,
# Christmas substitute Tue 27 skipped; Wed 28 (2), Thu 29 (3), Fri 30 (4); Sat 31, Sun 1,
# New Year substitute Mon 2 Jan skipped; Tue 3 Jan 2017 (5).
# Ofsted notified Tue 3 Jan 2017 (on time); LSCB told Wed 4 Jan (1 working day late).
# Decision: notification Tue 3 Jan 2017 + 1 month = Fri 3 Feb 2017 (expected by); decided
# Mon 6 Feb, after the expected date (v2: an expectation, never "late").

SCR_BASE: dict[str, Any] = {
    "notifiable": True,
    "meets_review_criteria": True,
    "aware_date": date(2016, 12, 22),
    "notification_date": date(2017, 1, 3),
    "partners_informed_date": date(2017, 1, 4),
    "decision_date": date(2017, 2, 6),
}


def _scr(
    state: str, today: date, adjustments: Sequence[Adjustment] = (), **changes: Any
) -> dict[str, DeadlineStatus]:
    statuses = evaluate_all(
        rulebook("england-scr-2015"),
        state=state,
        facts={**SCR_BASE, **changes},
        today=today,
        calendars=calendar_for,
        adjustments=adjustments,
    )
    return {s.name: s for s in statuses}


def test_scr_notification_and_decision() -> None:
    got = _scr("no_scr", date(2017, 2, 17), decision="no_review")
    o, lscb, dec = got["ofsted_notification"], got["lscb_informed"], got["scr_decision"]
    assert (o.due_date, o.on_time) == (date(2017, 1, 3), True)
    assert (lscb.due_date, lscb.on_time, lscb.working_days_late) == (date(2017, 1, 3), False, 1)
    # v2: the decision is "normally" within one month, an expectation: never late, never red
    assert (dec.kind, dec.due_date, dec.on_time) == ("expectation", date(2017, 2, 3), False)
    assert (dec.working_days_late, dec.rag) == (None, None)
    assert "Tue 27 Dec 2016 (Christmas Day (observed))" in o.explanation
    assert "Mon 2 Jan 2017 (New Year's Day (observed))" in o.explanation
    assert "Working Together 2015 ch.4" in o.source


def test_scr_no_scr_decision_to_national_panel_within_14_calendar_days() -> None:
    # decided Mon 6 Feb 2017 + 14 calendar days = Mon 20 Feb 2017
    pending = _scr("no_scr", date(2017, 2, 17), decision="no_review")
    d = pending["no_scr_decision_to_national_panel"]
    # Fri 17 Feb: due Mon 20 Feb, 1 working day left: amber
    assert (d.state, d.due_date, d.working_days_remaining, d.rag) == (
        S.PENDING,
        date(2017, 2, 20),
        1,
        "amber",
    )
    assert d.unit is DeadlineUnit.CALENDAR_DAYS
    overdue = _scr("no_scr", date(2017, 2, 21), decision="no_review")
    assert overdue["no_scr_decision_to_national_panel"].state is S.OVERDUE
    assert overdue["no_scr_decision_to_national_panel"].working_days_late == 1
    sent = _scr(
        "no_scr",
        date(2017, 3, 1),
        decision="no_review",
        decision_sent_to_panel_date=date(2017, 2, 21),
    )
    assert sent["no_scr_decision_to_national_panel"].on_time is False
    # the branch not taken: SCR completion does not apply to a decision not to hold one
    assert pending["scr_completed"].state is S.NOT_APPLICABLE


def test_scr_held_completion_within_six_months() -> None:
    # decided (hold an SCR) Mon 6 Feb 2017 + 6 months = Sun 6 Aug 2017. A month rule is
    # not moved off a weekend: a final report on Mon 7 Aug is 1 working day late.
    got = _scr(
        "pre_publication",
        date(2017, 8, 8),
        decision="local_review",
        final_report_date=date(2017, 8, 7),
    )
    c = got["scr_completed"]
    assert (c.due_date, c.on_time, c.working_days_late) == (date(2017, 8, 6), False, 1)
    assert got["no_scr_decision_to_national_panel"].state is S.NOT_APPLICABLE
    # Paused Mon 3 Jul to Mon 17 Jul 2017 (14 calendar days): due Sun 20 Aug 2017, and a
    # final report on Fri 18 Aug 2017 is on time.
    adj = (pause("scr_completed", date(2017, 7, 3)), resume("scr_completed", date(2017, 7, 17)))
    paused = _scr(
        "pre_publication",
        date(2017, 8, 21),
        adj,
        decision="local_review",
        final_report_date=date(2017, 8, 18),
    )
    c = paused["scr_completed"]
    assert (c.due_date, c.on_time, c.paused_days) == (date(2017, 8, 20), True, 14)


def test_scr_report_one_week_before_publication_counts_calendar_days() -> None:
    # planned publication Thu 4 Jan 2018 - 7 calendar days = Thu 28 Dec 2017.
    facts: dict[str, Any] = {
        "decision": "local_review",
        "final_report_date": date(2017, 12, 1),
        "planned_publication_date": date(2018, 1, 4),
    }
    on_time = _scr(
        "publication_due", date(2018, 1, 2), report_sent_to_panel_date=date(2017, 12, 28), **facts
    )
    b = on_time["report_to_national_panel_before_publication"]
    assert (b.due_date, b.on_time) == (date(2017, 12, 28), True)
    late = _scr(
        "publication_due", date(2018, 1, 2), report_sent_to_panel_date=date(2017, 12, 29), **facts
    )
    b = late["report_to_national_panel_before_publication"]
    assert (b.on_time, b.working_days_late) == (False, 1)  # Fri 29 Dec is 1 working day on
    # Had it been 5 working days: Wed 3 Jan (1), Tue 2 (2), New Year's Day Mon 1 skipped,
    # Fri 29 Dec (3), Thu 28 (4), Wed 27 Dec (5): Thu 28 Dec would have been late.
    rb = rulebook("england-scr-2015")
    as_wd = deadline(rb, "report_to_national_panel_before_publication").model_copy(
        update={"amount": 5, "unit": DeadlineUnit.WORKING_DAYS}
    )
    assert due_date(as_wd, date(2018, 1, 4), ENG) == date(2017, 12, 27)


def test_scr_report_stays_published() -> None:
    # published Thu 4 Jan 2018 + 12 months = Fri 4 Jan 2019; withdrawn Mon 7 Jan 2019
    got = _scr(
        "closed",
        date(2019, 2, 1),
        decision="local_review",
        published_date=date(2018, 1, 4),
        withdrawn_date=date(2019, 1, 7),
    )
    e = got["report_stays_published"]
    assert (e.state, e.due_date, e.on_time, e.rag) == (S.MET, date(2019, 1, 4), True, "green")


# --- every state ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("today", "state", "remaining", "late", "rag"),
    [
        # aware Mon 3 Mar 2025, due Mon 10 Mar 2025
        (date(2025, 3, 3), S.PENDING, 5, None, "green"),  # Tue 4 .. Fri 7, Mon 10
        (date(2025, 3, 6), S.PENDING, 2, None, "amber"),  # Fri 7, Mon 10
        (date(2025, 3, 10), S.PENDING, 0, None, "amber"),  # due today
        (date(2025, 3, 11), S.OVERDUE, None, 1, "red"),  # Tue 11
        (date(2025, 3, 17), S.OVERDUE, None, 5, "red"),  # Tue 11 .. Fri 14, Mon 17
    ],
)
def test_pending_overdue_and_rag(
    today: date, state: S, remaining: int | None, late: int | None, rag: str
) -> None:
    status = ev(
        "england-2023",
        "panel_notification",
        state="notification_due",
        today=today,
        aware_date=date(2025, 3, 3),
    )
    assert (status.state, status.working_days_remaining, status.working_days_late, status.rag) == (
        state,
        remaining,
        late,
        rag,
    )
    assert status.on_time is None


def test_rag_threshold_is_configurable() -> None:
    tight = RagThresholds(amber_within_working_days=1)
    thu = ev(
        "england-2023",
        "panel_notification",
        state="notification_due",
        today=date(2025, 3, 6),
        thresholds=tight,
        aware_date=date(2025, 3, 3),
    )
    fri = ev(
        "england-2023",
        "panel_notification",
        state="notification_due",
        today=date(2025, 3, 7),
        thresholds=tight,
        aware_date=date(2025, 3, 3),
    )
    assert (thu.working_days_remaining, thu.rag) == (2, "green")
    assert (fri.working_days_remaining, fri.rag) == (1, "amber")
    with pytest.raises(ValueError, match="0 or more"):
        RagThresholds(amber_within_working_days=-1)


def test_pending_explanation_matches_the_documented_example() -> None:
    status = ev(
        "england-2023",
        "panel_notification",
        state="notification_due",
        today=date(2025, 3, 6),
        aware_date=date(2025, 3, 3),
    )
    assert status.explanation.startswith(
        "Pending: due in 2 working days (RAG amber). "
        "Due Mon 10 Mar 2025: 5 working days after aware_date (Mon 3 Mar 2025). "
        "Source: Children Act 2004 s16C(1); Working Together 2023 ch.5"
    )
    assert status.explanation.endswith(
        "Non-working days skipped: Sat 8 Mar 2025 (Saturday), Sun 9 Mar 2025 (Sunday)."
    )


def test_not_started() -> None:
    status = ev(
        "england-2023",
        "lcspr_published",
        state="panel_response_due",
        today=date(2025, 3, 6),
        decision="local_review",
    )
    assert (status.state, status.due_date, status.from_date) == (S.NOT_STARTED, None, None)
    assert "Rule: 6 months after decision_date." in status.explanation


def test_not_applicable_branch_not_taken_by_guard() -> None:
    # A looked-after child's death notified without meeting the review criteria: no rapid
    # review, even while the notification is due.
    status = ev(
        "england-2023",
        "rapid_review_sent",
        state="notification_due",
        today=date(2025, 3, 6),
        notifiable=True,
        meets_review_criteria=False,
        aware_date=date(2025, 3, 3),
    )
    assert (status.state, status.due_date, status.rag) == (S.NOT_APPLICABLE, None, None)
    assert "meets_rapid_review_criteria" in status.explanation
    no_review = ev(
        "england-2023",
        "lcspr_published",
        state="no_review",
        today=date(2025, 6, 2),
        decision="no_review",
        decision_date=date(2025, 4, 1),
    )
    assert no_review.state is S.NOT_APPLICABLE
    assert "decision_is_local_review" in no_review.explanation


def test_not_applicable_once_the_case_left_the_states_where_it_could_be_met() -> None:
    # Partners never recorded as informed; the case has moved to the Panel's response,
    # where record_partners_informed is no longer allowed.
    status = ev(
        "england-2023",
        "partners_informed",
        state="panel_response_due",
        today=date(2025, 4, 1),
        aware_date=date(2025, 3, 3),
    )
    assert status.state is S.NOT_APPLICABLE
    assert "'panel_response_due'" in status.explanation
    # what the due date was is still said: Mon 10 Mar 2025
    assert "which would give Mon 10 Mar 2025" in status.explanation


def test_national_review_leaves_the_local_deadlines() -> None:
    status = ev(
        "england-2023",
        "lcspr_published",
        state="national_review",
        today=date(2025, 6, 2),
        decision="local_review",
        decision_date=date(2025, 4, 1),
    )
    assert status.state is S.NOT_APPLICABLE


# --- pauses, resumptions, extensions ----------------------------------------------------


def test_open_pause_is_paused_and_counts_up_to_today() -> None:
    # decision Mon 22 Apr 2024 -> Tue 22 Oct 2024; paused since Mon 14 Oct, today Fri 25 Oct:
    # 11 calendar days so far, so Sat 2 Nov 2024 for now.
    facts = {k: CASE_2023[k] for k in ("decision", "decision_date")}
    status = ev(
        "england-2023",
        "lcspr_published",
        state="publication_deferred",
        today=date(2024, 10, 25),
        adjustments=DEFERRAL[:1],
        **facts,
    )
    assert (status.state, status.due_date, status.paused_days, status.rag) == (
        S.PAUSED,
        date(2024, 11, 2),
        11,
        None,
    )
    assert status.explanation.startswith("Paused: the clock is stopped.")
    assert (
        "Paused since Mon 14 Oct 2024 (criminal trial; approved by Chair, case review group)"
        in status.explanation
    )


def test_pause_of_a_working_day_rule_counts_working_days() -> None:
    # rapid review made pausable (copy): aware Mon 3 Mar 2025; 15 working days: Tue 4 (1) ..
    # Fri 7 (4), Mon 10 (5) .. Fri 14 (9), Mon 17 (10) .. Fri 21 (14), Mon 24 Mar (15).
    # Paused Wed 5 Mar, resumed Mon 10 Mar: Thu 6, Fri 7, Mon 10 = 3 working days, so
    # Mon 24 + 3 = Tue 25 (1), Wed 26 (2), Thu 27 Mar 2025 (3).
    rb = rulebook("england-2023")
    d = deadline(rb, "rapid_review_sent").model_copy(update={"pausable": True})
    adj = [pause(d.name, date(2025, 3, 5)), resume(d.name, date(2025, 3, 10))]
    status = evaluate(
        rb,
        d,
        state="rapid_review",
        today=date(2025, 3, 20),
        calendar=ENG,
        adjustments=adj,
        facts={"meets_review_criteria": True, "aware_date": date(2025, 3, 3)},
    )
    assert (status.state, status.due_date, status.paused_days) == (S.PENDING, date(2025, 3, 27), 3)
    assert "+3 working days, so Mon 24 Mar 2025 becomes Thu 27 Mar 2025" in status.explanation
    # skipped days are listed up to the pushed due date: weekends of 8-9, 15-16, 22-23 Mar
    assert "Sat 22 Mar 2025 (Saturday), Sun 23 Mar 2025 (Sunday)." in status.explanation


def test_pause_ignored_when_the_deadline_is_not_pausable() -> None:
    adj = [
        pause("panel_notification", date(2025, 3, 4)),
        resume("panel_notification", date(2025, 3, 7)),
    ]
    status = ev(
        "england-2023",
        "panel_notification",
        state="notification_due",
        today=date(2025, 3, 6),
        adjustments=adj,
        aware_date=date(2025, 3, 3),
    )
    assert (status.state, status.due_date, status.paused_days) == (S.PENDING, date(2025, 3, 10), 0)
    assert "Pause of Tue 4 Mar 2025 ignored: this deadline cannot be paused" in status.explanation


def test_pause_edge_cases() -> None:
    facts = {k: CASE_2023[k] for k in ("decision", "decision_date")}
    name = "lcspr_published"
    # a resume without a pause, and another deadline's pause, change nothing
    stray = [resume(name, date(2024, 5, 1)), pause("panel_notification", date(2024, 5, 1))]
    status = ev(
        "england-2023",
        name,
        state="review_in_progress",
        today=date(2024, 6, 3),
        adjustments=stray,
        **facts,
    )
    assert (status.state, status.due_date) == (S.PENDING, date(2024, 10, 22))
    assert "Resume of Wed 1 May 2024 ignored: the deadline was not paused" in status.explanation
    # a pause dated after today is not in effect yet
    future = [pause(name, date(2024, 7, 1))]
    status = ev(
        "england-2023",
        name,
        state="review_in_progress",
        today=date(2024, 6, 3),
        adjustments=future,
        **facts,
    )
    assert (status.state, status.due_date) == (S.PENDING, date(2024, 10, 22))
    # met while still paused: the pause counts up to the met date. Paused Mon 14 Oct,
    # published Fri 1 Nov 2024: 18 days, Tue 22 Oct + 18 = Sat 9 Nov 2024: on time.
    status = ev(
        "england-2023",
        name,
        state="action_plan_monitoring",
        today=date(2024, 11, 4),
        adjustments=DEFERRAL[:1],
        published_date=date(2024, 11, 1),
        **facts,
    )
    assert (status.state, status.due_date, status.on_time, status.paused_days) == (
        S.MET,
        date(2024, 11, 9),
        True,
        18,
    )


def test_extension_sets_a_new_due_date_and_the_latest_wins() -> None:
    name = "panel_notification"
    first = extend(name, date(2025, 3, 14), "family liaison delayed", "Head of Service")
    status = ev(
        "england-2023",
        name,
        state="notification_due",
        today=date(2025, 3, 12),
        adjustments=[first],
        aware_date=date(2025, 3, 3),
    )
    # due Fri 14 Mar: Thu 13, Fri 14 = 2 working days left, not overdue
    assert (status.state, status.due_date, status.working_days_remaining) == (
        S.PENDING,
        date(2025, 3, 14),
        2,
    )
    assert (
        "Rule: 5 working days after aware_date (Mon 3 Mar 2025) gives Mon 10 Mar 2025. "
        "Extended to Fri 14 Mar 2025 (family liaison delayed; approved by Head of Service). "
        "Due Fri 14 Mar 2025."
    ) in status.explanation
    # only the rule's own count is listed as skipped (Sat 8, Sun 9 Mar)
    assert status.explanation.endswith(
        "Non-working days skipped: Sat 8 Mar 2025 (Saturday), Sun 9 Mar 2025 (Sunday)."
    )
    second = extend(name, date(2025, 3, 12), "revised", "Director")
    status = ev(
        "england-2023",
        name,
        state="notification_due",
        today=date(2025, 3, 12),
        adjustments=[first, second],
        aware_date=date(2025, 3, 3),
    )
    assert (status.due_date, status.working_days_remaining) == (date(2025, 3, 12), 0)
    assert "Extended to Wed 12 Mar 2025 (revised; approved by Director)" in status.explanation


def test_pauses_after_an_extension_push_it_and_earlier_ones_are_superseded() -> None:
    facts = {k: CASE_2023[k] for k in ("decision", "decision_date")}
    name = "lcspr_published"
    # extended to Fri 29 Nov 2024, then paused Mon 18 Nov to Mon 25 Nov (7 days):
    # Fri 29 Nov + 7 = Fri 6 Dec 2024
    later = [
        extend(name, date(2024, 11, 29)),
        pause(name, date(2024, 11, 18)),
        resume(name, date(2024, 11, 25)),
    ]
    status = ev(
        "england-2023",
        name,
        state="publication_due",
        today=date(2024, 11, 26),
        adjustments=later,
        **facts,
    )
    assert (status.due_date, status.paused_days) == (date(2024, 12, 6), 7)
    # paused (21 days) and then extended to Fri 29 Nov 2024: the extension's date stands
    earlier = [*DEFERRAL, extend(name, date(2024, 11, 29))]
    status = ev(
        "england-2023",
        name,
        state="publication_due",
        today=date(2024, 11, 26),
        adjustments=earlier,
        **facts,
    )
    assert (status.due_date, status.paused_days) == (date(2024, 11, 29), 0)


# --- calendars, versions, inputs --------------------------------------------------------


def test_evaluate_all_uses_the_deadlines_own_calendar() -> None:
    # aware Wed 31 Dec 2025. England: New Year's Day Thu 1 Jan skipped; Fri 2 (1), Mon 5 (2),
    # Tue 6 (3), Wed 7 (4), Thu 8 Jan 2026 (5). Scotland also closes Fri 2 Jan: Mon 5 (1) ..
    # Fri 9 Jan 2026 (5).
    rb = rulebook("england-2023")
    scottish = deadline(rb, "partners_informed").model_copy(update={"calendar": "scotland"})
    rb2 = rb.model_copy(update={"deadlines": (deadline(rb, "panel_notification"), scottish)})
    asked: list[str] = []

    def calendars(division: str) -> WorkingDayCalendar:
        asked.append(division)
        return calendar_for(division)

    got = evaluate_all(
        rb2,
        state="notification_due",
        facts={"aware_date": date(2025, 12, 31)},
        today=date(2026, 1, 5),
        calendars=calendars,
    )
    assert asked == ["england-and-wales", "scotland"]
    assert [s.due_date for s in got] == [date(2026, 1, 8), date(2026, 1, 9)]
    assert "calendar scotland" in got[1].explanation


def test_a_case_keeps_its_rulebook_versions_amount() -> None:
    # v2 (hypothetical) shortens the notification to 3 working days. A case opened under v1
    # is evaluated with the v1 object: aware Mon 3 Mar 2025 + 5 = Mon 10 Mar 2025 (v2 would
    # give Tue 4 (1), Wed 5 (2), Thu 6 Mar (3)).
    v1 = REGISTRY.get("england-2023", 1)
    shorter = deadline(v1, "panel_notification").model_copy(update={"amount": 3})
    v2 = v1.model_copy(
        update={
            "version": 2,
            "deadlines": tuple(shorter if d.name == shorter.name else d for d in v1.deadlines),
        }
    )
    registry = RulebookRegistry([v1, v2], default_id="england-2023")  # v2 hypothetical here
    assert registry.get("england-2023").version == 2
    opened_under = registry.get("england-2023", 1)
    facts = {"aware_date": date(2025, 3, 3)}
    for rb, expected, amount in ((opened_under, date(2025, 3, 10), 5), (v2, date(2025, 3, 6), 3)):
        status = evaluate(
            rb,
            deadline(rb, "panel_notification"),
            state="notification_due",
            facts=facts,
            today=date(2025, 3, 4),
            calendar=ENG,
        )
        assert (status.due_date, status.amount) == (expected, amount)
        assert f"Rulebook england-2023 v{rb.version}" in status.explanation
    assert deadline(v1, "panel_notification").amount == 5  # v1 itself unchanged


def test_inputs_are_checked() -> None:
    with pytest.raises(TypeError, match="aware_date"):
        ev(
            "england-2023",
            "panel_notification",
            state="notification_due",
            today=date(2025, 3, 4),
            aware_date=datetime(2025, 3, 3, 9, 0),
        )
    with pytest.raises(ValueError, match="adjustment kind"):
        Adjustment("panel_notification", "postpone", date(2025, 3, 4), "x", "y")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="effective_date"):
        Adjustment("panel_notification", "pause", "2025-03-04", "x", "y")  # type: ignore[arg-type]


def test_deadline_kind_defaults_to_due_by() -> None:
    rb = rulebook("england-2023")
    kinds = {d.name: d.kind for d in rb.deadlines}
    assert kinds["report_stays_published"] == "earliest"
    assert kinds["panel_response_expected"] == "expectation"  # v2: not statutory
    others = {"report_stays_published", "panel_response_expected"}
    assert {k for n, k in kinds.items() if n not in others} == {"due_by"}
