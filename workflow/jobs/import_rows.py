"""A case log (CSV or XLSX, one row per case) read and turned into the commands that
enter each case, in order. Pure: no database (workflow/jobs/importer.py runs them).

Row numbers count the header as row 1, as a spreadsheet shows them. A filled cell
drives the case to its stage; the commands then apply exactly the engine's rules.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

NOT_RECORDED = "Not recorded in the imported case log"
YES, NO = {"yes", "y", "true", "1"}, {"no", "n", "false", "0"}

# column -> what it holds (`casereview import --help` prints this; docs/import-template.csv)
COLUMNS: dict[str, str] = {
    "local_reference": "required: your reference, unique in the partnership (re-runs skip it)",
    "rulebook": "optional rulebook id; default: the one in force on aware_date",
    "incident_date": "date of the incident (dates: YYYY-MM-DD or DD/MM/YYYY)",
    "aware_date": "date the local authority became aware (day 0 of the clock)",
    "location": "where it happened",
    "nature": "death | serious_harm | other",
    "abuse_or_neglect": "known | suspected | not_suspected",
    "child_age_years": "age at the incident (0-24); leave blank for an unborn child",
    "unborn": "yes for an unborn child (yes/no)",
    "looked_after_child": "yes/no",
    "care_leaver": "yes/no",
    "child_pseudonym": "e.g. Child A (never a real name)",
    "case_outline": "what happened",
    "notification_date": "Serious Incident Notification sent",
    "partners_informed_date": "local partners informed",
    "rapid_review_meeting_date": "rapid review meeting",
    "rapid_review_sent_date": "rapid review sent to the Panel",
    "decision": "local_review | no_review | national_review_recommended "
    "(without decision_date: the rapid review's recommendation)",
    "decision_date": "the partners' decision",
    "decision_reasons": "reasons for the decision",
    "learning": "learning identified (required for no_review)",
    "panel_response_date": "the Panel's response",
    "panel_agrees": "yes/no",
    "panel_national_review": "yes if the Panel took a national review",
    "reviewer_name": "independent reviewer (independence declared)",
    "reviewer_commissioned_date": "reviewer commissioned",
    "terms_of_reference_date": "terms of reference agreed",
    "final_report_date": "final report received",
    "recommendations": "the report's recommendations, separated by ;",
    "report_sent_to_panel_date": "report sent to the Panel and the Secretary of State",
    "planned_publication_date": "default: published_date",
    "published_date": "report published",
    "publication_url": "where it is published",
    "closed_date": "case closed",
    "close_reason": "why it closed",
}
BOOLS = ("unborn", "looked_after_child", "care_leaver", "panel_agrees", "panel_national_review")


@dataclass(frozen=True)
class Problem:
    row: int | None  # None: the header
    column: str | None
    message: str

    def __str__(self) -> str:
        where = "header" if self.row is None else f"row {self.row}"
        return f"{where}, column {self.column}: {self.message}" if self.column else where


@dataclass(frozen=True)
class Row:
    number: int
    cells: dict[str, Any]  # known column -> raw cell (blank cells left out)


@dataclass(frozen=True)
class Step:
    trigger: str
    payload: dict[str, Any]
    fields: Mapping[str, str]  # command field (dotted, no list indices) -> column
    column: str  # the filled cell that calls for this command


# trigger, columns that make it fire, command field -> column, defaults
SPECS: list[tuple[str, tuple[str, ...], dict[str, str], dict[str, Any]]] = [
    ("log_incident", (), {
        **{f: f for f in ("rulebook", "local_reference", "incident_date", "aware_date")},
        "location": "location", "case_outline": "case_outline",
        **{f"criteria.{f}": f for f in (
            "nature", "abuse_or_neglect", "child_age_years", "unborn", "looked_after_child",
            "care_leaver")},
        "children.pseudonym": "child_pseudonym", "children.age_years": "child_age_years",
        "children.looked_after": "looked_after_child",
    }, {}),
    ("record_notification", ("notification_date",), {
        "notification_date": "notification_date",
        "partners_informed_date": "partners_informed_date"}, {}),
    ("record_partners_informed", ("partners_informed_date",), {
        "partners_informed_date": "partners_informed_date"}, {"partners": [NOT_RECORDED]}),
    ("complete_rapid_review", ("rapid_review_meeting_date", "rapid_review_sent_date"), {
        "meeting_date": "rapid_review_meeting_date", "sent_to_panel_date": "rapid_review_sent_date",
        "recommended_decision": "decision", "learning": "learning",
        "rationale": "decision_reasons"}, {
        "agencies_present": [NOT_RECORDED], "summary": NOT_RECORDED,
        "immediate_actions": NOT_RECORDED, "learning": NOT_RECORDED, "rationale": NOT_RECORDED}),
    ("record_decision", ("decision_date",), {
        "decision": "decision", "decision_date": "decision_date", "reasons": "decision_reasons",
        "learning": "learning"}, {"signed_off_by": [NOT_RECORDED]}),
    ("record_panel_response", ("panel_response_date", "panel_agrees", "panel_national_review"), {
        "response_date": "panel_response_date", "agrees_with_decision": "panel_agrees",
        "national_review": "panel_national_review"}, {}),
    ("commission_reviewer", ("reviewer_name", "reviewer_commissioned_date"), {
        "reviewer_name": "reviewer_name", "commissioned_date": "reviewer_commissioned_date"}, {
        "independence_declared": True, "declaration": NOT_RECORDED}),
    ("agree_terms_of_reference", ("terms_of_reference_date",), {
        "agreed_date": "terms_of_reference_date", "scope_start_date": "incident_date",
        "scope_end_date": "aware_date"}, {"key_lines_of_enquiry": [NOT_RECORDED]}),
    ("receive_final_report", ("final_report_date", "recommendations"), {
        "received_date": "final_report_date", "recommendations": "recommendations"}, {}),
    ("send_report_to_panel", ("report_sent_to_panel_date", "planned_publication_date"), {
        "sent_date": "report_sent_to_panel_date",
        "planned_publication_date": "planned_publication_date"}, {}),
    ("publish_report", ("published_date", "publication_url"), {
        "published_date": "published_date", "url": "publication_url"}, {}),
    ("close_case", ("closed_date", "close_reason"), {
        "closed_date": "closed_date", "reason": "close_reason"}, {}),
]  # fmt: skip


def read_table(path: Path) -> tuple[list[Row], list[Problem]]:
    """The rows of a .csv or .xlsx file (first sheet), and any problem with its header."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as fh:
            return _table(list(csv.reader(fh)))
    if suffix == ".xlsx":
        from openpyxl import load_workbook  # type: ignore[import-untyped,unused-ignore]

        book = load_workbook(path, read_only=True, data_only=True)
        try:
            return _table([list(r) for r in book.worksheets[0].iter_rows(values_only=True)])
        finally:
            book.close()
    raise ValueError(f"{path.name}: give a .csv or .xlsx file")


def _table(raw: list[list[Any]]) -> tuple[list[Row], list[Problem]]:
    if not raw:
        return [], [Problem(None, "local_reference", "the file is empty (no header row)")]
    header = [str(h or "").strip().lower() for h in raw[0]]
    problems = [Problem(None, h, "unknown column") for h in header if h and h not in COLUMNS]
    problems += [
        Problem(None, h, "appears twice") for h in sorted(set(header)) if header.count(h) > 1
    ]
    if "local_reference" not in header:
        problems.append(Problem(None, "local_reference", "required column missing"))
    rows = []
    for number, values in enumerate(raw[1:], start=2):
        cells = {
            h: v.strip() if isinstance(v, str) else v
            for h, v in zip(header, values, strict=False)
            if h in COLUMNS and v is not None and str(v).strip() != ""
        }
        if cells:
            rows.append(Row(number, cells))
    return rows, problems


def parse(row: Row) -> tuple[dict[str, Any], list[Problem]]:
    """The row's typed values, and every problem with a cell on its own."""
    values: dict[str, Any] = {}
    problems = []
    for column, cell in row.cells.items():
        try:
            values[column] = _convert(column, cell)
        except ValueError as exc:
            problems.append(Problem(row.number, column, str(exc)))
    if "local_reference" not in row.cells:
        problems.append(Problem(row.number, "local_reference", "required"))
    return values, problems


def _convert(column: str, cell: Any) -> Any:
    if column.endswith("_date"):
        return _date(cell)
    if column in BOOLS:
        if isinstance(cell, bool):
            return cell
        word = str(cell).lower()
        if word in YES | NO:
            return word in YES
        raise ValueError(f"{cell!r} is not yes or no")
    if column == "child_age_years":
        if not str(cell).removesuffix(".0").isdigit():
            raise ValueError(f"{cell!r} is not a whole number of years")
        return int(str(cell).removesuffix(".0"))
    if column == "recommendations":
        return [r.strip() for r in str(cell).split(";") if r.strip()]
    return str(int(cell)) if isinstance(cell, float) and cell.is_integer() else str(cell)


def _date(cell: Any) -> date:
    if isinstance(cell, date):
        return cell.date() if isinstance(cell, datetime) else cell
    text = str(cell).strip()
    try:
        if "-" in text:
            return datetime.fromisoformat(text).date()
        return datetime.strptime(text, "%d/%m/%Y").date()
    except ValueError:
        raise ValueError(f"{text!r} is not a date (YYYY-MM-DD or DD/MM/YYYY)") from None


def plan(values: Mapping[str, Any], number: int) -> tuple[list[Step], list[Problem]]:
    """The commands the row's filled cells call for, in order; a problem for each filled
    cell that no command takes (its stage is not reached)."""
    steps: list[Step] = []
    for trigger, when, fields, defaults in SPECS:
        if when and not any(c in values for c in when):
            continue
        if trigger == "record_partners_informed" and "notification_date" in values:
            continue  # recorded with the notification
        payload = dict(defaults)
        for field, column in fields.items():
            if column in values:
                _put(payload, field, values[column])
        if trigger == "send_report_to_panel" and "published_date" in values:
            payload.setdefault("planned_publication_date", values["published_date"])
        steps.append(Step(trigger, payload, fields, next((c for c in when if c in values), "")))
    used = {c for s in steps for c in s.fields.values()}
    problems = [
        Problem(number, c, f"filled, but this stage is not reached without {_needs(c)}")
        for c in values
        if c not in used
    ]
    return steps, problems


def _needs(column: str) -> str:
    return " or ".join(c for _, when, fields, _ in SPECS if column in fields.values() for c in when)


def _put(payload: dict[str, Any], field: str, value: Any) -> None:
    head, _, rest = field.partition(".")
    if not rest:
        payload[head] = value
    elif head == "children":  # one child per row
        payload.setdefault("children", [{}])[0][rest] = value
    else:
        payload.setdefault(head, {})[rest] = value


def locate(step: Step, loc: Iterable[Any], message: str) -> tuple[str, str]:
    """The column a command's complaint is about, and the complaint in column names."""
    key = ".".join(str(p) for p in loc if isinstance(p, str))
    column = None
    while key and column is None:
        column = step.fields.get(key)
        key = key.rpartition(".")[0]
    if column is None:
        found = sorted(
            (m.start(), col)
            for field, col in step.fields.items()
            if (m := re.search(rf"\b{field.rpartition('.')[2]}\b", message))
        )
        column = found[0][1] if found else step.column or "local_reference"
    for field, col in step.fields.items():
        if "." not in field and field != col:
            message = re.sub(rf"\b{field}\b", col, message)
    return column, message
