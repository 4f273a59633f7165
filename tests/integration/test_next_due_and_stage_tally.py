"""`case.next_due_date` and `case_stage_tally` (kept by triggers, migration 0009) always
equal what they summarise: the earliest pending due date of each case, and the cases
per (partnership, stage); and the overdue list and cases by stage read from them give
exactly what the scans gave."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path

from sqlalchemy import delete, exists, func, insert, select, update
from sqlalchemy.orm import Session

from tests.support.factories import NOW, make_case
from tests.support.world import World, reload
from workflow.access.permissions import Perm
from workflow.access.principal import Principal
from workflow.access.scoping import case_filter
from workflow.cases.assignments import assign_reviewer
from workflow.cases.deadline_adjustments import AdjustDeadline, adjust_deadline
from workflow.context import Context
from workflow.core.rulebook import RulebookRegistry
from workflow.jobs.import_rows import read_table
from workflow.jobs.importer import import_rows
from workflow.reads import dashboard
from workflow.reads.queries import CaseListRequest, list_cases
from workflow.storage.database import Database
from workflow.storage.models import Case, CaseDeadline, CaseStageTally

SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "import-sample.csv"


def stored_and_scanned(s: Session) -> tuple[dict[uuid.UUID, date | None], ...]:
    """(case id -> stored next_due_date, case id -> min pending due date by a scan)."""
    stored = {i: d for i, d in s.execute(select(Case.id, Case.next_due_date))}
    earliest = (
        select(func.min(CaseDeadline.due_date))
        .where(CaseDeadline.case_id == Case.id, CaseDeadline.state == "pending")
        .scalar_subquery()
    )
    scanned = {i: d for i, d in s.execute(select(Case.id, earliest))}
    return stored, scanned


def assert_next_due_right(database: Database) -> dict[uuid.UUID, date | None]:
    stored, scanned = database.read(stored_and_scanned)
    assert stored == scanned
    return stored


def tallied_and_scanned(s: Session) -> tuple[dict[tuple[uuid.UUID, str], int], ...]:
    tallied = {
        (p, stage): n
        for p, stage, n in s.execute(
            select(CaseStageTally.partnership_id, CaseStageTally.stage, CaseStageTally.cases)
        )
        if n
    }
    scanned = {
        (p, stage): n
        for p, stage, n in s.execute(
            select(Case.partnership_id, Case.stage, func.count()).group_by(
                Case.partnership_id, Case.stage
            )
        )
    }
    return tallied, scanned


def assert_tally_right(database: Database) -> None:
    tallied, scanned = database.read(tallied_and_scanned)
    assert tallied == scanned


def test_next_due_date_follows_commands_adjustments_closure_import_and_sql(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    officer = world.officer
    assert officer is not None
    fresh = make_case(database, rulebooks, officer)  # notification and rapid review pending
    reviewing = make_case(database, rulebooks, officer, "review_in_progress")
    closed = make_case(database, rulebooks, officer, "closed")
    deferred = make_case(database, rulebooks, officer, "publication_deferred")  # lcspr paused
    stored = assert_next_due_right(database)
    paused = database.read(
        lambda s: s.scalar(
            select(func.count()).where(
                CaseDeadline.case_id == deferred, CaseDeadline.state == "paused"
            )
        )
    )
    assert paused == 1
    assert stored[fresh] is not None
    assert stored[reviewing] is not None
    assert stored[closed] is None
    assert_tally_right(database)

    ctx = Context(rulebooks, officer, NOW)
    before = stored[fresh]
    earliest = database.read(
        lambda s: list(
            s.scalars(
                select(CaseDeadline.name).where(
                    CaseDeadline.case_id == fresh,
                    CaseDeadline.state == "pending",
                    CaseDeadline.due_date == before,
                )
            )
        )
    )
    for version, name in enumerate(sorted(earliest), start=1):  # every one due first
        extension = AdjustDeadline(
            deadline=name,
            kind="extension",
            effective_date=date(2025, 12, 1),
            reason="Awaiting police disclosure",
            approved_by="Chair",
        )
        database.write(lambda s, e=extension, v=version: adjust_deadline(s, ctx, fresh, v, e))
        assert_next_due_right(database)
    stored = assert_next_due_right(database)
    assert stored[fresh] != before

    rows, header = read_table(SAMPLE)
    report = import_rows(database, ctx, "alpha", rows, header_problems=header)
    assert report.count("imported") >= 6
    assert_next_due_right(database)
    assert_tally_right(database)

    def by_hand(s: Session) -> None:  # SQL by hand, as another process might run it
        s.execute(
            update(CaseDeadline)
            .where(CaseDeadline.case_id == reviewing, CaseDeadline.state == "pending")
            .values(due_date=date(2020, 1, 1))
        )
        s.execute(
            insert(CaseDeadline).values(
                case_id=closed, name="by_hand", state="pending", due_date=date(2030, 1, 1)
            )
        )
        s.execute(delete(CaseDeadline).where(CaseDeadline.case_id == fresh))

    database.write(by_hand)
    stored = assert_next_due_right(database)
    assert (stored[reviewing], stored[closed], stored[fresh]) == (
        date(2020, 1, 1),
        date(2030, 1, 1),
        None,
    )
    database.write(
        lambda s: s.execute(
            update(CaseDeadline).where(CaseDeadline.case_id == closed).values(state="met")
        )
    )
    assert assert_next_due_right(database)[closed] is None


def test_the_overdue_list_is_the_cases_with_an_overdue_pending_deadline(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    officer = world.officer
    assert officer is not None
    for state in ("notification_due", "rapid_review", "review_in_progress", "closed"):
        make_case(database, rulebooks, officer, state)
    make_case(database, rulebooks, officer, aware_date="2026-01-14")  # due, not yet overdue
    ctx = Context(rulebooks, officer, NOW)
    overdue = exists().where(
        CaseDeadline.case_id == Case.id,
        CaseDeadline.state == "pending",
        CaseDeadline.due_date < ctx.today,
    )
    expected = database.read(
        lambda s: list(
            s.scalars(
                select(Case.id)
                .where(case_filter(officer), overdue)
                .order_by(Case.created_at.desc(), Case.id.desc())
            )
        )
    )
    assert 0 < len(expected) < 5  # some are overdue on NOW, one not yet, closed never
    pages: list[uuid.UUID] = []
    cursor: str | None = None
    while True:
        page, cursor = database.read(
            lambda s, c=cursor: list_cases(s, ctx, CaseListRequest(overdue=True), limit=2, cursor=c)
        )
        pages += [c.id for c in page]
        if cursor is None:
            break
    assert pages == expected
    named, _ = database.read(
        lambda s: list_cases(s, ctx, CaseListRequest(overdue=True, deadline="panel_notification"))
    )
    assert {c.id for c in named} <= set(expected)


def test_cases_by_stage_from_the_tally_equal_a_scan_for_every_kind_of_caller(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    officer = world.officer
    assert officer is not None
    first = make_case(database, rulebooks, officer, "rapid_review")
    make_case(database, rulebooks, officer, "review_in_progress")
    make_case(database, rulebooks, officer, "closed")
    make_case(database, rulebooks, world.principals[("beta", "notifier")])

    def assign(s: Session) -> None:
        case = s.get(Case, first)
        assert case is not None
        assign_reviewer(s, case, "alpha-reviewer", NOW)

    database.write(assign)
    callers: list[Principal] = [
        officer,
        world.principals[("beta", "viewer")],
        reload(database, "panel"),
        reload(database, "alpha-reviewer"),  # an assigned case: counted over `case`
    ]

    def check() -> None:
        assert_tally_right(database)
        for caller in callers:
            ctx = Context(rulebooks, caller, NOW)
            got = database.read(lambda s, c=ctx: dashboard.dashboard(s, c).cases_by_stage)
            scanned = database.read(
                lambda s, c=caller: {
                    stage: n
                    for stage, n in s.execute(
                        select(Case.stage, func.count())
                        .where(case_filter(c, Perm.DASHBOARD_READ))
                        .group_by(Case.stage)
                    )
                }
            )
            assert got == scanned, caller.username
        national = Context(rulebooks, callers[2], NOW)
        beta = database.read(lambda s: dashboard.dashboard(s, national, partnership="beta"))
        assert beta.cases_by_stage == {"notification": 1}

    check()
    assert database.read(lambda s: dashboard.dashboard(s, Context(rulebooks, callers[3], NOW)))
    database.write(
        lambda s: s.execute(update(Case).where(Case.id == first).values(stage="decision"))
    )
    check()

    def copy_then_delete(s: Session) -> None:  # SQL by hand: a case without a timeline
        bare = s.get(Case, first)
        assert bare is not None
        row = {c.key: getattr(bare, c.key) for c in Case.__table__.columns}
        s.execute(insert(Case).values({**row, "id": uuid.uuid4(), "stage": "by_hand"}))

    database.write(copy_then_delete)
    check()
    database.write(lambda s: s.execute(delete(Case).where(Case.stage == "by_hand")))
    check()
