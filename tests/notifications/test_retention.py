"""The outbox's retention: finished notifications older than the cut-off are deleted;
dead letters, anything still being delivered and reminders of still-pending deadlines
are kept, so the sweep never sends a reminder twice after a purge."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date, timedelta

import pytest

from api.cli import main
from config.settings import Settings, get_settings
from tests.notifications.conftest import admin_ctx, deliveries, messages, subscribe
from tests.notifications.receivers import WebhookReceiver
from tests.support.factories import NOW, command, make_case
from tests.support.world import World
from workflow.cases.engine import execute
from workflow.context import Context
from workflow.core.calendars import CalendarBook
from workflow.core.rulebook import RulebookRegistry
from workflow.notifications.config import NotifyConfig
from workflow.notifications.outbox import DEADLINE_MISSED, STAGE_CHANGED
from workflow.notifications.retention import purge
from workflow.notifications.sweep import sweep
from workflow.notifications.worker import default_channels, run_once
from workflow.storage.database import Database
from workflow.storage.models import Case

LATE = date(2025, 3, 12)  # the factory case's notification deadlines (10 Mar) are missed


def _sweep(database: Database) -> set[str]:
    """The cases the sweep enqueued reminders for."""
    found = database.write(lambda s: sweep(s, CalendarBook(), today=LATE, now=NOW, working_days=5))
    return {r.case_id for r in found}


def _record_notification(
    database: Database, rulebooks: RulebookRegistry, world: World, case_id: uuid.UUID
) -> None:
    ctx = Context(rulebooks, world.principals[("alpha", "notifier")], NOW)
    version = database.read(lambda s: s.get_one(Case, case_id).version)
    cmd = command("record_notification")
    database.write(lambda s: execute(s, ctx, case_id, version, cmd))


def _ids(database: Database, case_id: uuid.UUID, topic: str) -> set[uuid.UUID]:
    return {m.id for m in messages(database, topic) if m.case_id == case_id}


def test_finished_messages_go_and_the_rest_stays(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    notify_config: NotifyConfig,
) -> None:
    notifier = world.principals[("alpha", "notifier")]
    subscribe(database, admin_ctx(world, rulebooks), "alpha", "webhook", webhook.url)
    met = make_case(database, rulebooks, notifier)  # its missed reminders, then notified
    still_due = make_case(database, rulebooks, notifier)  # its missed reminders stay due
    assert _sweep(database) == {str(met), str(still_due)}
    _record_notification(database, rulebooks, world, met)
    later = NOW + timedelta(minutes=1)
    run_once(database, default_channels(notify_config), notify_config, later)
    # A dead letter: a subscription whose target is refused, one attempt allowed.
    subscribe(database, admin_ctx(world, rulebooks), "alpha", "webhook", "http://192.0.2.1/hook")
    dead_letter = make_case(database, rulebooks, notifier)
    once = replace(notify_config, max_attempts=1)
    assert run_once(database, default_channels(once), once, later).dead == 1
    everything = {m.id for m in messages(database)}
    expected_gone = (
        _ids(database, met, STAGE_CHANGED)
        | _ids(database, met, DEADLINE_MISSED)
        | _ids(database, still_due, STAGE_CHANGED)
    )
    kept = _ids(database, still_due, DEADLINE_MISSED) | _ids(database, dead_letter, STAGE_CHANGED)
    assert len(expected_gone) == 5
    assert len(kept) == 3
    assert expected_gone | kept == everything
    delivered_of_gone = [d for d in deliveries(database) if d.message_id in expected_gone]
    assert {d.status for d in delivered_of_gone} == {"delivered"}

    assert purge(database, before=NOW) == (0, 0)  # nothing is older than its creation
    progress: list[tuple[int, int]] = []
    gone = purge(
        database,
        before=NOW + timedelta(days=1),
        batch=2,
        progress=lambda m, d: progress.append((m, d)),
    )
    assert gone == (len(expected_gone), len(delivered_of_gone))
    assert len(progress) == 3
    assert progress[-1] == gone
    assert {m.id for m in messages(database)} == kept
    assert {d.message_id for d in deliveries(database)} == kept
    assert purge(database, before=NOW + timedelta(days=1)) == (0, 0)  # idempotent
    # the still-due reminders are not sent again (the last case was never swept)
    assert _sweep(database) == {str(dead_letter)}


def test_the_purge_command_reports_what_it_deleted(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    notify_config: NotifyConfig,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    subscribe(database, admin_ctx(world, rulebooks), "alpha", "webhook", webhook.url)
    make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    run_once(database, default_channels(notify_config), notify_config, NOW + timedelta(minutes=1))
    assert len(messages(database)) == 1
    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as refused:
            main(["purge-notifications", "--older-than-days", "-1"])
        assert refused.value.code == 2
        assert "must be 0 or more" in capsys.readouterr().err
        assert main(["purge-notifications", "--older-than-days", "36500"]) == 0
        kept = capsys.readouterr().out
        assert main(["purge-notifications", "--older-than-days", "0"]) == 0
        purged = capsys.readouterr().out
    finally:
        get_settings.cache_clear()
    assert kept.strip().startswith("0 finished message(s) and 0 delivered delivery(ies)")
    assert purged.strip().startswith("1 finished message(s) and 1 delivered delivery(ies)")
    assert messages(database) == []
    assert deliveries(database) == []
