"""The deadline sweep: reminders from the stored deadlines, each enqueued once, even
from two sweeps at the same moment."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from api.cli import main
from config.settings import Settings, get_settings
from tests.notifications.conftest import assert_no_personal_data, messages
from tests.support.factories import NOW, make_case
from tests.support.world import World
from workflow.core.calendars import CalendarBook
from workflow.core.rulebook import RulebookRegistry
from workflow.notifications.outbox import DEADLINE_APPROACHING, DEADLINE_MISSED
from workflow.notifications.sweep import Reminder, sweep
from workflow.storage.database import Database

# The factory case: aware Mon 3 Mar 2025, so panel_notification and partners_informed
# are due Mon 10 Mar 2025 (5 working days) and the rapid review on Mon 24 Mar 2025.


def _sweep(database: Database, today: date, working_days: int = 5) -> list[Reminder]:
    return database.write(
        lambda s: sweep(s, CalendarBook(), today=today, now=NOW, working_days=working_days)
    )


def test_approaching_then_missed_each_enqueued_once(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    case_id = make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    assert _sweep(database, date(2025, 2, 28)) == []  # 6 working days left: not yet
    found = _sweep(database, date(2025, 3, 3))  # Mon: 5 working days to Mon 10 Mar
    assert {(r.topic, r.deadline, r.due_date, r.working_days) for r in found} == {
        (DEADLINE_APPROACHING, "panel_notification", date(2025, 3, 10), 5),
        (DEADLINE_APPROACHING, "partners_informed", date(2025, 3, 10), 5),
    }
    assert _sweep(database, date(2025, 3, 4)) == []  # the same day again
    assert _sweep(database, date(2025, 3, 7)) == []  # still approaching: already told
    missed = _sweep(database, date(2025, 3, 12))  # Wed: 2 working days late
    assert {(r.topic, r.deadline, r.working_days) for r in missed} == {
        (DEADLINE_MISSED, "panel_notification", 2),
        (DEADLINE_MISSED, "partners_informed", 2),
    }
    assert _sweep(database, date(2025, 3, 13)) == []  # missed is said once
    stored = messages(database, DEADLINE_MISSED)
    assert {m.dedup_key for m in stored} == {
        f"{DEADLINE_MISSED}:{case_id}:panel_notification:2025-03-10",
        f"{DEADLINE_MISSED}:{case_id}:partners_informed:2025-03-10",
    }
    assert stored[0].payload["case"] == {"id": str(case_id), "reference": str(case_id)[:8]}
    assert_no_personal_data([m.payload for m in messages(database)])


def test_met_deadlines_are_not_reminded(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    make_case(database, rulebooks, world.principals[("alpha", "notifier")], "rapid_review")
    found = _sweep(database, date(2025, 3, 20))  # notified on 7 Mar: met
    assert {(r.topic, r.deadline) for r in found} == {(DEADLINE_APPROACHING, "rapid_review_sent")}


def test_two_sweeps_at_once_enqueue_each_reminder_once(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    for _ in range(3):
        make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    barrier = threading.Barrier(2)
    results: list[list[Reminder]] = []

    def run() -> None:
        barrier.wait(10)
        results.append(_sweep(database, date(2025, 3, 12)))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 2
    assert sum(len(r) for r in results) == 6  # 3 cases x 2 missed deadlines, once
    assert len(messages(database, DEADLINE_MISSED)) == 6


def test_the_sweep_command_prints_what_it_enqueued(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case_id = make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    try:
        assert main(["sweep", "--date", "2025-03-11"]) == 0
        first = capsys.readouterr().out
        assert main(["sweep", "--date", "2025-03-11"]) == 0
        second = capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    assert f"deadline.missed\tcase {str(case_id)[:8]}\tpanel_notification\tdue 2025-03-10" in first
    assert first.endswith("2 reminder(s) enqueued for 2025-03-11\n")
    assert second == "0 reminder(s) enqueued for 2025-03-11\n"
