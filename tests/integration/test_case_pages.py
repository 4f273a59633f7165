"""Pages of cases for the web list (workflow/reads/case_pages.py), on both databases:
keyset pages forwards and back past 200 cases in each order, search by reference and by
narrative text (only where the narrative may be read), the list's filters."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest

from tests.support.factories import NOW, make_case
from tests.support.world import World
from workflow.access.principal import Principal
from workflow.context import Context
from workflow.core.errors import InvalidCursor, InvalidFacts
from workflow.core.rulebook import RulebookRegistry
from workflow.reads.case_pages import CasePage, page_of_cases
from workflow.reads.queries import CaseListRequest, may_search_text
from workflow.storage.database import Database

MANY = 205  # past the old dashboard's 200


def _page(
    database: Database,
    rulebooks: RulebookRegistry,
    who: Principal,
    request: CaseListRequest,
    cursor: str | None = None,
    limit: int = 50,
) -> CasePage:
    ctx = Context(rulebooks, who, NOW)
    return database.read(lambda s: page_of_cases(s, ctx, request, limit=limit, cursor=cursor))


def _walk(database: Database, rulebooks: RulebookRegistry, who: Principal, sort: str) -> None:
    """Every page forwards, then every page backwards from the last: the same pages."""
    request = CaseListRequest(sort=sort)
    pages, cursor = [], None
    while True:
        page = _page(database, rulebooks, who, request, cursor)
        assert page.total == MANY
        pages.append([c.id for c in page.cases])
        cursor = page.next_cursor
        if cursor is None:
            break
        assert page.previous_cursor is not None or len(pages) == 1
    assert [len(p) for p in pages] == [50, 50, 50, 50, 5]
    seen = [i for p in pages for i in p]
    assert len(set(seen)) == MANY
    back = [pages[-1]]
    cursor = _page(database, rulebooks, who, request, None).previous_cursor  # first page: none
    assert cursor is None
    cursor = page.previous_cursor
    while cursor is not None:
        page = _page(database, rulebooks, who, request, cursor)
        back.append([c.id for c in page.cases])
        cursor = page.previous_cursor
    assert list(reversed(back)) == pages


@pytest.fixture
def many(database: Database, rulebooks: RulebookRegistry, world: World) -> list[uuid.UUID]:
    assert world.officer is not None
    made = []
    for i in range(MANY):
        aware = date(2025, 1, 1) + timedelta(days=i % 40)
        made.append(
            make_case(
                database,
                rulebooks,
                world.officer,
                local_reference=f"MN-{i:03d}",
                incident_date=aware.isoformat(),
                aware_date=aware.isoformat(),
                now=NOW + timedelta(seconds=i % 7),  # ties in created_at, broken by id
            )
        )
    return made


def test_pages_go_forwards_and_back_past_200_cases_in_every_order(
    database: Database, rulebooks: RulebookRegistry, world: World, many: list[uuid.UUID]
) -> None:
    assert world.officer is not None
    for sort in ("newest", "oldest", "due"):
        _walk(database, rulebooks, world.officer, sort)
    due = _page(database, rulebooks, world.officer, CaseListRequest(sort="due"), limit=MANY)
    dates = [c.next_due_date for c in due.cases]
    assert dates == sorted(dates, key=lambda d: d or date.max)


def test_a_cursor_is_for_its_own_order(
    database: Database, rulebooks: RulebookRegistry, world: World, many: list[uuid.UUID]
) -> None:
    assert world.officer is not None
    page = _page(database, rulebooks, world.officer, CaseListRequest(sort="newest"))
    with pytest.raises(InvalidCursor):
        _page(database, rulebooks, world.officer, CaseListRequest(sort="due"), page.next_cursor)
    with pytest.raises(InvalidCursor):
        _page(database, rulebooks, world.officer, CaseListRequest(), "not-a-cursor")
    with pytest.raises(InvalidFacts) as refused:
        _page(database, rulebooks, world.officer, CaseListRequest(sort="sideways"))
    assert refused.value.field == "sort"


def test_search_by_reference_and_by_text_where_the_narrative_may_be_read(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    officer = world.officer
    assert officer is not None
    reviewed = make_case(database, rulebooks, officer, "decision_due", local_reference="NS-77")
    make_case(database, rulebooks, officer, local_reference="NS-78")
    make_case(database, rulebooks, officer, local_reference="XY-1")

    by_ref = _page(database, rulebooks, officer, CaseListRequest(reference="ns-7"))
    assert sorted(c.local_reference or "" for c in by_ref.cases) == ["NS-77", "NS-78"]
    # the rapid review's learning: "Bruising protocol not followed."
    by_text = _page(database, rulebooks, officer, CaseListRequest(text="PROTOCOL not"))
    assert [c.id for c in by_text.cases] == [reviewed]
    assert may_search_text(officer)

    viewer = world.principals[("alpha", "viewer")]
    assert not may_search_text(viewer)
    assert _page(database, rulebooks, viewer, CaseListRequest(text="protocol")).cases == []
    assert _page(database, rulebooks, viewer, CaseListRequest(reference="NS-77")).total == 1
    # the filters of GET /cases apply alike
    stage = _page(database, rulebooks, officer, CaseListRequest(stages=["decision"]))
    assert [c.id for c in stage.cases] == [reviewed]
    overdue = _page(database, rulebooks, officer, CaseListRequest(overdue=True))
    assert {c.local_reference for c in overdue.cases} >= {"NS-78", "XY-1"}
