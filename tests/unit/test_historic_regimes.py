"""The English regimes since 1 April 2006 (issue 17), from the guidance's own numbers,
with due dates worked by hand on the England and Wales calendar of the day.

- england-scr-2006: LSCB Regulations 2006 (SI 2006/90, in force 1 April 2006) reg. 5;
  Working Together 2006 ch.8: completion within 4 months of the decision.
- england-scr-2010: Working Together 2010 ch.8: completion within 6 months.
- england-scr-2013: Working Together 2013 ch.4 (from 15 April 2013): the national panel
  of independent experts; full reports published, online at least 12 months.
- england-scr-2015 v2: the decision "should normally be made within one month of
  notification": an expectation.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from config.settings import Settings
from workflow.core import machine
from workflow.core.calendar import calendar_for
from workflow.core.deadlines import DeadlineState as S
from workflow.core.deadlines import DeadlineStatus, evaluate_all
from workflow.core.errors import CommandNotAllowed
from workflow.runtime import load_rulebooks

REGISTRY = load_rulebooks(Settings())
SCR = ["england-scr-2006", "england-scr-2010", "england-scr-2013", "england-scr-2015"]


def _statuses(rulebook_id: str, state: str, today: date, **facts: Any) -> dict[str, DeadlineStatus]:
    base = {"notifiable": True, "meets_review_criteria": True}
    got = evaluate_all(
        REGISTRY.get(rulebook_id),
        state=state,
        facts={**base, **facts},
        today=today,
        calendars=calendar_for,
    )
    return {s.name: s for s in got}


def test_every_day_from_1_april_2006_has_an_english_regime() -> None:
    day, end = date(2006, 4, 1), date(2026, 1, 15)
    seen: list[str] = []
    while day <= end:
        rb = REGISTRY.in_force(day)
        if not seen or seen[-1] != rb.id:
            seen.append(rb.id)
        day += timedelta(days=1)
    assert seen == [
        "england-scr-2006",
        "england-scr-2010",
        "england-scr-2013",
        "england-scr-2015",
        "england-2018",
        "england-2023",
    ]


@pytest.mark.parametrize(
    ("on", "rulebook_id"),
    [
        (date(2006, 4, 1), "england-scr-2006"),  # SI 2006/90 reg. 1: in force 1 April 2006
        (date(2010, 3, 25), "england-scr-2006"),
        (date(2010, 3, 26), "england-scr-2010"),
        (date(2013, 4, 14), "england-scr-2010"),
        (date(2013, 4, 15), "england-scr-2013"),  # WT2013 took effect 15 April 2013
        (date(2015, 3, 25), "england-scr-2013"),
        (date(2015, 3, 26), "england-scr-2015"),
    ],
)
def test_the_regime_in_force_on_each_boundary(on: date, rulebook_id: str) -> None:
    assert REGISTRY.in_force(on).id == rulebook_id


def test_2006_completion_within_four_months_of_the_decision() -> None:
    # decided Mon 5 Feb 2007 + 4 months = Tue 5 Jun 2007; report Tue 12 Jun 2007: late by
    # Wed 6, Thu 7, Fri 8, Mon 11, Tue 12 = 5 working days.
    got = _statuses(
        "england-scr-2006",
        "pre_publication",
        date(2007, 7, 1),
        aware_date=date(2006, 12, 21),
        notification_date=date(2007, 1, 2),
        decision="local_review",
        decision_date=date(2007, 2, 5),
        final_report_date=date(2007, 6, 12),
    )
    done = got["scr_completed"]
    assert (done.kind, done.amount, done.due_date) == ("due_by", 4, date(2007, 6, 5))
    assert (done.on_time, done.working_days_late, done.rag) == (False, 5, "red")
    assert "Working Together to Safeguard Children 2006 ch.8" in done.source


def test_2006_notification_and_decision_are_expected_dates_over_christmas() -> None:
    # aware Thu 21 Dec 2006 + 5 working days: Fri 22 (1); Mon 25 and Tue 26 Dec (Christmas,
    # Boxing Day) skipped; Wed 27 (2), Thu 28 (3), Fri 29 (4); Mon 1 Jan 2007 skipped;
    # Tue 2 Jan 2007 (5). Never overdue, however late today is.
    waiting = _statuses(
        "england-scr-2006", "notification_due", date(2007, 3, 1), aware_date=date(2006, 12, 21)
    )["ofsted_notification"]
    assert (waiting.kind, waiting.due_date) == ("expectation", date(2007, 1, 2))
    assert (waiting.state, waiting.rag, waiting.working_days_late) == (S.PENDING, None, None)
    # notified Tue 2 Jan 2007 + 1 month = Fri 2 Feb 2007, expected; decided Mon 5 Feb.
    dec = _statuses(
        "england-scr-2006",
        "scr_commissioning",
        date(2007, 3, 1),
        aware_date=date(2006, 12, 21),
        notification_date=date(2007, 1, 2),
        decision="local_review",
        decision_date=date(2007, 2, 5),
    )["scr_decision"]
    assert (dec.kind, dec.due_date, dec.on_time, dec.rag) == (
        "expectation",
        date(2007, 2, 2),
        False,
        None,
    )


def test_2010_completion_within_six_months_across_new_year() -> None:
    # decided Wed 30 Jun 2010 + 6 months = Thu 30 Dec 2010; report Tue 4 Jan 2011: late by
    # Fri 31 Dec (1); Mon 3 Jan 2011 (New Year's Day substitute) skipped; Tue 4 Jan (2).
    done = _statuses(
        "england-scr-2010",
        "pre_publication",
        date(2011, 2, 1),
        aware_date=date(2010, 6, 1),
        notification_date=date(2010, 6, 3),
        decision="local_review",
        decision_date=date(2010, 6, 30),
        final_report_date=date(2011, 1, 4),
    )["scr_completed"]
    assert (done.amount, done.due_date, done.working_days_late) == (6, date(2010, 12, 30), 2)


def test_2013_national_panel_and_month_end_clamp() -> None:
    # decided (no SCR) Thu 31 Oct 2013 + 14 calendar days = Thu 14 Nov 2013, expected.
    no_scr = _statuses(
        "england-scr-2013",
        "no_scr",
        date(2013, 12, 2),
        aware_date=date(2013, 10, 1),
        notification_date=date(2013, 10, 3),
        decision="no_review",
        decision_date=date(2013, 10, 31),
    )
    told = no_scr["no_scr_decision_to_national_panel"]
    assert (told.kind, told.due_date, told.state, told.rag) == (
        "expectation",
        date(2013, 11, 14),
        S.PENDING,
        None,
    )
    # decided (hold an SCR) Thu 31 Oct 2013 + 6 months = Wed 30 Apr 2014 (clamped).
    held = _statuses(
        "england-scr-2013",
        "scr_in_progress",
        date(2014, 5, 2),
        aware_date=date(2013, 10, 1),
        notification_date=date(2013, 10, 3),
        decision="local_review",
        decision_date=date(2013, 10, 31),
    )["scr_completed"]
    assert (held.due_date, held.state, held.working_days_late) == (
        date(2014, 4, 30),
        S.OVERDUE,
        2,  # Thu 1, Fri 2 May 2014
    )
    # published Mon 2 Jun 2014: stays online until at least Tue 2 Jun 2015.
    stays = _statuses(
        "england-scr-2013",
        "action_plan_monitoring",
        date(2014, 7, 1),
        decision="local_review",
        decision_date=date(2013, 10, 31),
        published_date=date(2014, 6, 2),
    )["report_stays_published"]
    assert (stays.kind, stays.due_date) == ("earliest", date(2015, 6, 2))


@pytest.mark.parametrize("rulebook_id", ["england-scr-2006", "england-scr-2010"])
def test_no_national_panel_before_2013(rulebook_id: str) -> None:
    rb = REGISTRY.get(rulebook_id)
    assert "record_panel_response" not in {t.trigger for t in rb.transitions}
    assert not any("national_panel" in d.name for d in rb.deadlines)
    with pytest.raises(CommandNotAllowed):
        machine.fire(
            rb, "lscb_decision_due", {"decision": "national_review_recommended"}, "record_decision"
        )


@pytest.mark.parametrize("rulebook_id", SCR)
def test_every_scr_rule_cites_its_regime(rulebook_id: str) -> None:
    rb = REGISTRY.get(rulebook_id)
    year = rulebook_id.rsplit("-", 1)[1]
    for d in rb.deadlines:
        assert (
            f"Working Together {year}" in d.source
            or f"Working Together to Safeguard Children {year}" in d.source
        ), d.name
    # An SCR decision is never a limit: the guidance says "normally" (or gives no number).
    assert next(d for d in rb.deadlines if d.name == "scr_decision").kind == "expectation"
    assert not any(s.name == "criteria_not_met" for s in rb.states)  # no rapid review
    assert "withdraw_notification" in rb.triggers_from("lscb_decision_due")
