"""Regression: under the SCR regime (no rapid review) the LSCB's decision and the
national panel's response were bounded by no earlier fact, so a decision dated before
the local authority became aware of the incident, and a panel view dated before the
decision, were accepted (found by tests/property/test_service_machine.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from tests.support.factories import command, incident
from tests.support.world import World
from workflow.cases.engine import execute, open_case
from workflow.commands.intake import LogIncident
from workflow.context import Context
from workflow.core.errors import InvalidFacts
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database

NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def _scr_case(database: Database, ctx: Context) -> uuid.UUID:
    body = incident(
        rulebook="england-scr-2015", incident_date="2017-05-08", aware_date="2017-05-10"
    )
    case = database.write(lambda s: open_case(s, ctx, LogIncident.model_validate(body)))
    notified = command("record_notification", notification_date="2017-05-12")
    return database.write(lambda s: execute(s, ctx, case.id, 1, notified)).id


@pytest.mark.parametrize("decision_date", ["2017-05-09", "2017-05-11"])
def test_scr_decision_cannot_precede_awareness_or_notification(
    database: Database, rulebooks: RulebookRegistry, world: World, decision_date: str
) -> None:
    ctx = Context(rulebooks, world.principals[("alpha", "notifier")], NOW)
    case_id = _scr_case(database, ctx)
    group = Context(rulebooks, world.principals[("alpha", "review_group")], NOW)
    decided = command("record_decision", decision="local_review", decision_date=decision_date)
    with pytest.raises(InvalidFacts) as refused:
        database.write(lambda s: execute(s, group, case_id, 2, decided))
    assert refused.value.field == "decision_date"
    on_time = command("record_decision", decision="local_review", decision_date="2017-05-12")
    assert database.write(lambda s: execute(s, group, case_id, 2, on_time)).state == (
        "scr_commissioning"
    )


def test_scr_panel_view_cannot_precede_the_decision(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    ctx = Context(rulebooks, world.principals[("alpha", "notifier")], NOW)
    case_id = _scr_case(database, ctx)
    group = Context(rulebooks, world.principals[("alpha", "review_group")], NOW)
    no_scr = command(
        "record_decision",
        decision="no_review",
        learning="Single-agency.",
        decision_date="2017-06-01",
    )
    database.write(lambda s: execute(s, group, case_id, 2, no_scr))
    early = command("record_panel_response", response_date="2017-05-31")
    with pytest.raises(InvalidFacts) as refused:
        database.write(lambda s: execute(s, group, case_id, 3, early))
    assert refused.value.field == "response_date"
    later = command("record_panel_response", response_date="2017-06-20")
    assert database.write(lambda s: execute(s, group, case_id, 3, later)).version == 4
