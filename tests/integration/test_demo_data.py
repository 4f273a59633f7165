"""`casereview demo-data`: fictional cases in every stage and deadline status."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.cli import main
from config.settings import Settings, get_settings
from tests.support.factories import NOW
from tests.support.world import World
from workflow.cases import clock
from workflow.context import Context
from workflow.core.calendars import CalendarBook
from workflow.core.deadlines import DeadlineState
from workflow.core.rulebook import RulebookRegistry
from workflow.jobs.demo import THEMATIC, load_demo
from workflow.jobs.maintenance import SYSTEM
from workflow.storage.database import Database
from workflow.storage.models import (
    Action,
    ApiToken,
    AuditRecord,
    Case,
    CaseEvent,
    CaseLink,
    Partnership,
    User,
)

TABLES = (Case, CaseEvent, AuditRecord, Action, CaseLink, User, ApiToken, Partnership)


def _counts(database: Database) -> tuple[int, ...]:
    return database.read(
        lambda s: tuple(s.scalar(select(func.count()).select_from(t)) or 0 for t in TABLES)
    )


def test_demo_data_covers_every_stage_rulebook_and_deadline_status(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    result = load_demo(database, rulebooks, CalendarBook(), NOW)
    assert len(result.created) >= 20
    assert {u for u, _ in result.tokens} == {
        "demo.review_group",
        "demo.viewer",
        "demo-north.review_group",
        "demo-north.viewer",
    }
    ctx = Context(rulebooks, SYSTEM, NOW)

    def survey(s: Session) -> tuple[set[str], set[str], set[tuple[str, object]], list[Case]]:
        cases = list(s.scalars(select(Case)))
        states: set[str] = set()
        books: set[str] = set()
        statuses: set[tuple[str, object]] = set()
        for case in cases:
            books.add(case.rulebook_id)
            if case.rulebook_id == "england-2023":
                states.add(case.state)
            rulebook = rulebooks.get(case.rulebook_id, case.rulebook_version)
            for st in clock.statuses(s, ctx, rulebook, case):
                detail = st.on_time if st.state is DeadlineState.MET else st.rag
                statuses.add((st.state.value, detail))
        return states, books, statuses, cases

    states, books, statuses, cases = database.read(survey)
    assert states == {s.name for s in rulebooks.get("england-2023").states}
    # The demo partnership is English: every English rulebook (the other nations' are
    # driven by tests/integration/test_nation_cases.py).
    assert books == {i for i in rulebooks.ids() if rulebooks.get(i).nation == "england"}
    assert {
        ("not_started", None),
        ("pending", "green"),
        ("pending", "amber"),  # due soon
        ("overdue", "red"),
        ("met", True),
        ("met", False),  # met late
        ("paused", None),
    } <= statuses
    labels = [c.details.get("incident", {}).get("case_outline") or c.title or "" for c in cases]
    assert all("FICTIONAL" in label for label in labels)
    thematic = [c for c in cases if c.kind == "thematic"]
    assert [c.title for c in thematic] == [THEMATIC]
    plan = database.read(lambda s: set(s.scalars(select(Action.status))))
    assert {"not_started", "in_progress", "completed_signed_off"} <= plan
    assert database.read(lambda s: s.scalar(select(func.count()).select_from(CaseLink))) == 2


def test_demo_data_is_idempotent(database: Database, rulebooks: RulebookRegistry) -> None:
    load_demo(database, rulebooks, CalendarBook(), NOW)
    before = _counts(database)
    again = load_demo(database, rulebooks, CalendarBook(), NOW)
    assert again.created == []
    assert again.users == []
    assert again.tokens == []
    assert len(again.existing) >= 20
    assert _counts(database) == before


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_the_cli_loads_demo_data_once(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["demo-data"]) == 0
    out = capsys.readouterr().out
    assert "token for demo.review_group" in out
    assert "token for demo-north.viewer" in out
    assert main(["demo-data"]) == 0
    assert "0 case(s) created" in capsys.readouterr().out
