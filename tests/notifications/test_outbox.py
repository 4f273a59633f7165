"""A change and its outbox message commit together; a refused command leaves none."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.api.helpers import command, drive, open_case
from tests.notifications.conftest import assert_no_personal_data, messages
from tests.support.factories import NOW, make_case
from tests.support.factories import command as factory_command
from tests.support.world import World
from workflow.cases.engine import execute
from workflow.context import Context
from workflow.core.errors import Conflict
from workflow.core.rulebook import RulebookRegistry
from workflow.notifications.outbox import STAGE_CHANGED
from workflow.storage.database import Database
from workflow.storage.models import OutboxMessage


def test_each_state_change_commits_one_message_with_its_command(
    client: TestClient, database: Database
) -> None:
    case = open_case(client)
    first = messages(database)
    assert [(m.topic, m.payload["to_state"]) for m in first] == [
        (STAGE_CHANGED, "notification_due")
    ]
    case = drive(client, case, "record_notification")
    found = messages(database)
    assert len(found) == 2
    latest = next(m for m in found if m.id != first[0].id)
    assert latest.payload == {
        "id": str(latest.id),
        "topic": STAGE_CHANGED,
        "occurred_at": latest.payload["occurred_at"],
        "case": {"id": case["id"], "reference": case["id"][:8], "version": 2},
        "from_state": "notification_due",
        "to_state": "rapid_review",
        "stage": latest.payload["stage"],
    }
    assert latest.dedup_key == f"{STAGE_CHANGED}:{case['id']}:2"
    assert_no_personal_data([m.payload for m in found])


def test_a_refused_command_enqueues_nothing(client: TestClient, database: Database) -> None:
    case = open_case(client)
    before = len(messages(database))
    assert command(client, case, "publish_report").status_code == 409  # wrong state
    assert command(client, case, "record_notification", version=7).status_code == 412
    bad_date = command(client, case, "record_notification", notification_date="2025-01-01")
    assert bad_date.status_code == 422  # before aware_date
    assert len(messages(database)) == before == 1


def test_the_message_rolls_back_with_a_transaction_that_fails_after_the_change(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    """The outbox row is flushed with the command; whatever fails later in the same
    transaction takes it back out."""
    case_id = make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    ctx = Context(rulebooks, world.principals[("alpha", "notifier")], NOW)

    def change_then_fail(session: Session) -> None:
        execute(session, ctx, case_id, 1, factory_command("record_notification"))
        session.flush()
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == 2
        raise Conflict("a later step of the same transaction failed")

    with pytest.raises(Conflict):
        database.write(change_then_fail)
    assert [m.payload["to_state"] for m in messages(database)] == ["notification_due"]


def test_a_change_that_keeps_the_state_enqueues_nothing(
    client: TestClient, database: Database
) -> None:
    case = open_case(client)
    response = client.post(
        f"/api/v1/cases/{case['id']}/deadline-adjustments",
        json={
            "deadline": "panel_notification",
            "kind": "extension",
            "effective_date": "2025-03-14",
            "reason": "Agreed with the Panel",
            "approved_by": "Chair",
        },
        headers={"If-Match": '"1"'},
    )
    assert response.status_code in (200, 201), response.text
    assert len(messages(database)) == 1
