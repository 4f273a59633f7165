"""Persistence guarantees on SQLite and PostgreSQL: migrations, append-only
timeline, commit before response, one winner under concurrency."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.exc import DBAPIError

from tests.api.helpers import open_case
from tests.support.factories import NOW, command, make_case
from tests.support.world import World
from workflow.cases.engine import execute
from workflow.context import Context
from workflow.core.errors import CommandNotAllowed, VersionMismatch
from workflow.core.rulebook import RulebookRegistry
from workflow.storage import migrate
from workflow.storage.database import Database
from workflow.storage.models import Case, CaseEvent


def test_migrations_downgrade_and_upgrade_again_without_drift(db_url: str) -> None:
    migrate.check(db_url)  # the per-test database was built by the real migrations
    migrate.downgrade(db_url, "base")
    engine = create_engine(db_url)
    with engine.connect() as conn:
        tables = set(conn.dialect.get_table_names(conn))
    engine.dispose()
    assert tables <= {"alembic_version"}
    migrate.upgrade(db_url, "head")
    migrate.check(db_url)


def test_a_201_means_the_case_is_committed(client: TestClient, db_url: str) -> None:
    case = open_case(client)
    engine = create_engine(db_url)  # a different connection pool than the app's
    with engine.connect() as conn:
        state = conn.execute(
            select(Case.state).where(Case.id == uuid.UUID(case["id"]))
        ).scalar_one()
        events = conn.execute(select(func.count()).select_from(CaseEvent)).scalar_one()
    engine.dispose()
    assert (state, events) == ("notification_due", 1)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE case_event SET actor = 'someone else'",
        "DELETE FROM case_event",
    ],
)
def test_timeline_is_append_only_in_the_database(
    database: Database, rulebooks: RulebookRegistry, world: World, statement: str
) -> None:
    make_case(database, rulebooks, world.officer, "rapid_review")
    with pytest.raises(DBAPIError, match="append-only"), database.engine.begin() as conn:
        conn.execute(text(statement))
    with database.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM case_event")).scalar_one() == 2


def test_timeline_is_append_only_in_the_orm(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    make_case(database, rulebooks, world.officer, "rapid_review")

    def tamper(session: Any) -> None:
        event = session.execute(select(CaseEvent)).scalars().first()
        event.actor = "someone else"
        session.flush()

    with pytest.raises(PermissionError, match="append-only"):
        database.write(tamper)


def test_refused_command_changes_nothing(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    case_id = make_case(database, rulebooks, world.officer, "rapid_review")
    ctx = Context(rulebooks, world.officer, NOW)
    with pytest.raises(CommandNotAllowed):
        database.write(lambda s: execute(s, ctx, case_id, 2, command("publish_report")))
    with database.engine.connect() as conn:
        version = conn.execute(select(Case.version).where(Case.id == case_id)).scalar_one()
        events = conn.execute(select(func.count()).select_from(CaseEvent)).scalar_one()
    assert (version, events) == (2, 2)


def test_fifty_concurrent_commands_exactly_one_wins(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    """Conflicting commands on one case at once: one succeeds, the others are refused
    with a version or state conflict, none fails otherwise."""
    case_id = make_case(database, rulebooks, world.officer, "decision_due")
    barrier = threading.Barrier(50)
    outcomes: list[str] = []
    lock = threading.Lock()

    def act(i: int) -> None:
        ctx = Context(rulebooks, world.officer, NOW)
        decision = ["local_review", "national_review_recommended"][i % 2]
        cmd = command("record_decision", decision=decision)
        barrier.wait()
        try:
            database.write(lambda s: execute(s, ctx, case_id, 3, cmd))
            result = "ok"
        except (VersionMismatch, CommandNotAllowed) as exc:
            result = type(exc).__name__
        except Exception as exc:
            result = f"error: {exc!r}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=act, args=(i,)) for i in range(50)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert outcomes.count("ok") == 1, outcomes
    assert set(outcomes) <= {"ok", "VersionMismatch", "CommandNotAllowed"}, outcomes
    with database.engine.connect() as conn:
        events = (
            conn.execute(
                select(CaseEvent.event_type)
                .where(CaseEvent.case_id == case_id)
                .order_by(CaseEvent.sequence)
            )
            .scalars()
            .all()
        )
        version = conn.execute(select(Case.version).where(Case.id == case_id)).scalar_one()
    assert events.count("record_decision") == 1
    assert version == 4
