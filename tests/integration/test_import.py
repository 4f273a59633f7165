"""`casereview import`: a case log (CSV / XLSX) entered through the real commands."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook  # type: ignore[import-untyped,unused-ignore]
from sqlalchemy import func, select

from api.cli import main
from config.settings import Settings, get_settings
from tests.support.factories import NOW, make_case
from tests.support.world import World
from workflow.context import Context
from workflow.core.errors import DomainError
from workflow.core.rulebook import RulebookRegistry
from workflow.jobs.import_rows import COLUMNS, read_table
from workflow.jobs.importer import ImportReport, import_rows
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord, Case, CaseDeadline, CaseEvent

DOCS = Path(__file__).resolve().parents[2] / "docs"
# The dates of tests/support/factories.py BODIES, so an imported case can be compared
# with the same case driven through the engine command by command.
LIVE = {
    "incident_date": "2025-03-01", "aware_date": "2025-03-03",
    "location": "Family home, Anytown", "nature": "serious_harm",
    "abuse_or_neglect": "suspected", "child_age_years": "0", "child_pseudonym": "Child A",
    "case_outline": "FICTIONAL: non-mobile infant presented at A&E with bruising.",
    "notification_date": "2025-03-07", "partners_informed_date": "2025-03-07",
    "rapid_review_meeting_date": "2025-03-18", "rapid_review_sent_date": "2025-03-20",
    "decision": "local_review", "decision_date": "2025-03-20",
    "decision_reasons": "Potential for systemic learning.", "panel_response_date": "2025-04-01",
    "panel_agrees": "yes", "reviewer_name": "Jane Reviewer",
    "reviewer_commissioned_date": "2025-04-10", "terms_of_reference_date": "2025-04-24",
    "final_report_date": "2025-08-01", "recommendations": "Refresh the bruising protocol",
    "report_sent_to_panel_date": "2025-08-05", "planned_publication_date": "2025-08-20",
}  # fmt: skip
LATER = {"final_report_date", "recommendations", "report_sent_to_panel_date"}
LATER.add("planned_publication_date")


def _csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns or list(COLUMNS))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _import(database: Database, ctx: Context, path: Path, *, dry_run: bool = False) -> ImportReport:
    rows, header = read_table(path)
    return import_rows(database, ctx, "alpha", rows, header_problems=header, dry_run=dry_run)


def _counts(database: Database) -> tuple[int, ...]:
    tables = (Case, CaseEvent, AuditRecord)
    return database.read(
        lambda s: tuple(s.scalar(select(func.count()).select_from(t)) or 0 for t in tables)
    )


@pytest.fixture
def ctx(rulebooks: RulebookRegistry, world: World) -> Context:
    assert world.officer is not None  # notifier and review group in alpha
    return Context(rulebooks, world.officer, NOW, "test import")


def test_problems_are_reported_by_row_and_column_and_nothing_is_written(
    database: Database, ctx: Context, tmp_path: Path
) -> None:
    good = {"local_reference": "OK-1", **LIVE}
    rows = [
        good,
        {**good, "local_reference": "BAD-2", "decision_date": "2025-03-10"},
        {**good, "local_reference": "BAD-3", "aware_date": "31/02/2025"},
        {**good, "local_reference": ""},
        {**good, "local_reference": "OK-1"},
        {**good, "local_reference": "BAD-6", "rapid_review_meeting_date": ""},
        {**good, "local_reference": "BAD-7", "published_date": "2025-09-01"},
    ]
    path = _csv(tmp_path / "log.csv", [{**r, "colour": "red"} for r in rows], [*COLUMNS, "colour"])
    before = _counts(database)
    for dry_run in (True, False):
        report = _import(database, ctx, path, dry_run=dry_run)
        assert [str(p) for p in report.problems] == [
            "header, column colour: unknown column",
            "row 3, column decision_date: decision_date (2025-03-10) is before the case's "
            "rapid_review_meeting_date (2025-03-18)",
            "row 4, column aware_date: '31/02/2025' is not a date (YYYY-MM-DD or DD/MM/YYYY)",
            "row 5, column local_reference: required",
            "row 6, column local_reference: duplicate of row 2",
            "row 7, column rapid_review_meeting_date: required for complete_rapid_review",
            "row 8, column publication_url: required for publish_report",
        ]
        assert not report.written
        assert "nothing written" in report.summary()
    assert _counts(database) == before


def test_a_clean_import_enters_each_case_exactly_as_if_entered_live(
    database: Database, rulebooks: RulebookRegistry, world: World, ctx: Context, tmp_path: Path
) -> None:
    assert world.officer is not None
    live_id = make_case(database, rulebooks, world.officer, "publication_due")
    path = _csv(
        tmp_path / "log.csv",
        [
            {"local_reference": "LOG-1", **LIVE},
            {"local_reference": "LOG-2", **{k: v for k, v in LIVE.items() if k not in LATER}},
        ],
    )
    report = _import(database, ctx, path)
    assert report.written
    assert not report.problems
    assert [(r.reference, r.outcome, r.state) for r in report.rows] == [
        ("LOG-1", "imported", "publication_due"),
        ("LOG-2", "imported", "review_in_progress"),  # stops where the cells stop
    ]

    def shape(case_id: Any) -> tuple[list[Any], list[Any], int]:
        def read(s: Any) -> tuple[list[Any], list[Any], int]:
            events = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id))
            deadlines = s.scalars(select(CaseDeadline).where(CaseDeadline.case_id == case_id))
            audit = select(func.count()).where(AuditRecord.case_id == case_id)
            return (
                sorted((e.sequence, e.event_type, e.from_state, e.to_state) for e in events),
                sorted((d.name, d.state, d.due_date, d.met_date, d.on_time) for d in deadlines),
                s.scalar(audit),
            )

        return database.read(read)

    imported = database.read(
        lambda s: s.scalar(select(Case.id).where(Case.local_reference == "LOG-1"))
    )
    assert shape(imported) == shape(live_id)
    case = database.read(lambda s: s.get_one(Case, imported))
    assert (case.rulebook_id, case.decision_date, case.version) == (
        "england-2023",
        date(2025, 3, 20),
        9,
    )


def test_a_rerun_imports_nothing_twice(database: Database, ctx: Context, tmp_path: Path) -> None:
    path = _csv(tmp_path / "log.csv", [{"local_reference": "LOG-1", **LIVE}])
    assert _import(database, ctx, path).summary() == "1 imported, 0 already imported"
    before = _counts(database)
    again = _import(database, ctx, path)
    assert [(r.row, r.outcome) for r in again.rows] == [(2, "already imported")]
    assert again.summary() == "0 imported, 1 already imported"
    assert _counts(database) == before


def test_an_scr_era_row_is_entered_under_the_scr_rulebook(
    database: Database, ctx: Context, tmp_path: Path
) -> None:
    row = {
        "local_reference": "SCR-1", "incident_date": "2017-03-04", "aware_date": "2017-03-06",
        "location": "FICTIONAL", "nature": "death", "abuse_or_neglect": "suspected",
        "child_age_years": "1", "child_pseudonym": "Child A", "case_outline": "FICTIONAL",
        "notification_date": "2017-03-09", "decision": "no_review", "decision_date": "2017-03-30",
        "decision_reasons": "Criteria not met", "learning": "Escalation",
        "closed_date": "2017-05-01", "close_reason": "No SCR",
    }  # fmt: skip
    report = _import(database, ctx, _csv(tmp_path / "scr.csv", [row]))
    assert [(r.rulebook, r.state) for r in report.rows] == [("england-scr-2015", "closed")]
    events = database.read(
        lambda s: list(s.scalars(select(CaseEvent.to_state).order_by(CaseEvent.id)))
    )
    assert events == ["notification_due", "lscb_decision_due", "no_scr", "closed"]


def test_an_xlsx_case_log_imports(database: Database, ctx: Context, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Local_Reference ", *list(LIVE)[:10]])
    values: list[Any] = list(LIVE.values())[:10]
    values[:2] = [date(2025, 3, 1), date(2025, 3, 3)]  # date cells
    values[5] = 0  # a number cell (child_age_years)
    sheet.append([1001, *values])
    book.save(tmp_path / "log.xlsx")
    report = _import(database, ctx, tmp_path / "log.xlsx")
    assert [(r.reference, r.state) for r in report.rows] == [("1001", "rapid_review")]


def test_the_sample_file_imports_cleanly(database: Database, ctx: Context) -> None:
    report = _import(database, ctx, DOCS / "import-sample.csv")
    assert not report.problems
    assert report.count("imported") == len(report.rows) >= 6
    assert {r.rulebook for r in report.rows} == {
        "england-scr-2015",
        "england-2018",
        "england-2023",
        "england-panel-2025",
    }
    outlines = database.read(lambda s: list(s.scalars(select(Case.details))))
    assert all("FICTIONAL" in d["incident"]["case_outline"] for d in outlines)
    assert (DOCS / "import-template.csv").read_text().strip() == ",".join(COLUMNS)


def test_an_actor_without_the_roles_is_refused_before_anything_is_written(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    ctx = Context(rulebooks, world.principals[("alpha", "viewer")], NOW)
    rows, _ = read_table(DOCS / "import-sample.csv")
    before = _counts(database)
    with pytest.raises(DomainError, match="grant the role"):
        import_rows(database, ctx, "alpha", rows)
    assert _counts(database) == before


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_the_cli_checks_then_imports(
    cli_env: Settings, world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sample = str(DOCS / "import-sample.csv")
    args = ["import", sample, "--partnership", "alpha", "--as", "la.officer"]
    assert main([*args, "--dry-run"]) == 0
    assert "row 2, SAMPLE-001: would import -> closed (england-scr-2015)" in capsys.readouterr().out
    assert main(args) == 0
    out = capsys.readouterr()
    assert "imported" in out.out
    assert "importing" in out.err
    bad = _csv(tmp_path / "bad.csv", [{"local_reference": "X", "aware_date": "soon"}])
    assert main(["import", str(bad), "--partnership", "alpha", "--as", "la.officer"]) == 1
    assert "row 2, column aware_date: 'soon' is not a date" in capsys.readouterr().out
    assert main([*args[:-1], "alpha-viewer"]) == 2
    assert "may not" in capsys.readouterr().err
