"""The property tests' independent working-day count agrees with the worked examples
of domain.md (so a disagreement with the engine points at the engine)."""

from __future__ import annotations

from datetime import date

import pytest

from tests.property.oracle import MAIN_DEADLINES, add_working_days, expected


@pytest.mark.parametrize(
    ("start", "amount", "due"),
    [
        (date(2025, 3, 3), 5, date(2025, 3, 10)),
        (date(2025, 4, 17), 5, date(2025, 4, 28)),  # Easter
        (date(2025, 12, 20), 5, date(2025, 12, 30)),  # Christmas, from a Saturday
        (date(2025, 4, 28), 15, date(2025, 5, 20)),  # early May bank holiday
        (date(2022, 9, 16), 1, date(2022, 9, 20)),  # the State Funeral, 19 Sept 2022
    ],
)
def test_worked_examples(start: date, amount: int, due: date) -> None:
    assert add_working_days(start, amount) == due


def test_rapid_review_clock_start_differs_by_rulebook() -> None:
    facts = {
        "aware_date": date(2025, 6, 2),
        "notification_date": date(2025, 6, 6),
        "meets_review_criteria": True,
    }
    due = {
        rulebook: expected(
            next(r for r in rules if r.name == "rapid_review_sent"),
            state="rapid_review",
            facts=facts,
            today=date(2025, 6, 10),
            partnership="p",
        ).due
        for rulebook, rules in MAIN_DEADLINES.items()
        if any(r.name == "rapid_review_sent" for r in rules)  # not the SCR regimes
    }
    assert due["england-2023"] == date(2025, 6, 23)  # 15 working days from awareness
    assert due["england-panel-2025"] == date(2025, 6, 27)  # ... from the notification
