"""Data out: CSV exports of the cases, deadlines and actions of the caller's
partnerships (those where it holds `data.export`).

Exports are streamed a page at a time, each page read in a short transaction of its
own (keyset pagination), so no database connection is held while the response is
written and memory stays flat. Every cell is made safe against spreadsheet formula
injection (OWASP: a cell starting with = + - @ TAB or CR gets a leading `'`) and
every field is quoted; a control or bidirectional character stored before the input
rule (workflow/core/inputs.py) is written as U+FFFD. Free text that may name people (a
case's close reason, an action's description, owner and reason) is filled in only
where the caller may read the case's personal data. Services flush, never commit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, or_, select
from sqlalchemy.orm import Session

from workflow.access.permissions import Perm, refusal
from workflow.access.scoping import case_filter, sees_personal_data
from workflow.cases.action_plan import CLOSED_STATUSES
from workflow.context import Context
from workflow.core.errors import Forbidden
from workflow.core.facts import DATE_FACTS
from workflow.core.inputs import neutralise
from workflow.storage.models import Action, Case, CaseDeadline, Partnership, Recommendation

PAGE_SIZE = 500
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
T = TypeVar("T")
Reader = Callable[[Callable[[Session], T]], T]  # Database.read
Key = tuple[Any, ...]


def safe_cell(value: object) -> str:
    """The cell's text, with a `'` before a leading formula character (strings only:
    a number such as -3 is written as it is) and refused characters neutralised (a
    cell may hold line breaks: every field is quoted)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    text = value.isoformat() if isinstance(value, date) else neutralise(str(value), multiline=True)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_text(rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n")
    writer.writerows([safe_cell(v) for v in row] for row in rows)
    return out.getvalue()


@dataclass(frozen=True)
class Page:
    rows: list[list[object]]
    last: Key | None  # the keyset of the last row; None when this is the last page


@dataclass(frozen=True)
class Export:
    header: list[str]
    page: Callable[[Session, Context, Key | None, int], Page]


def start(session: Session, ctx: Context, kind: str) -> None:
    """Check the caller may export, and audit the export in each partnership's trail
    (before anything is sent)."""
    mine = ctx.principal.partnerships_with(Perm.DATA_EXPORT)
    if not mine:
        raise Forbidden(refusal(Perm.DATA_EXPORT))
    personal = ctx.principal.partnerships_with(Perm.CASE_READ_PERSONAL)
    codes = session.execute(
        select(Partnership.id, Partnership.code).where(Partnership.id.in_(mine))
    )
    for pid, code in sorted(codes, key=lambda row: row[1]):
        ctx.audit(
            session, f"export_{kind}", chain=code, detail={"personal_fields": pid in personal}
        )
    session.flush()


def stream(read: Reader[Page], ctx: Context, kind: str, size: int = 0) -> Iterator[str]:
    """The CSV text, header first, one chunk per page (of `size`, default PAGE_SIZE)."""
    export, size = EXPORTS[kind], size or PAGE_SIZE
    yield csv_text([export.header])
    last: Key | None = None
    while True:

        def one(session: Session, after: Key | None = last) -> Page:
            return export.page(session, ctx, after, size)

        page = read(one)
        if page.rows:
            yield csv_text(page.rows)
        if page.last is None:
            return
        last = page.last


def _after(columns: Sequence[Any], values: Key) -> ColumnElement[bool]:
    """(columns) > (values), lexicographically."""
    cond: ColumnElement[bool] = columns[-1] > values[-1]
    for column, value in zip(reversed(columns[:-1]), reversed(values[:-1]), strict=True):
        cond = or_(column > value, and_(column == value, cond))
    return cond


def _page(
    session: Session,
    stmt: Select[*tuple[Any, ...]],
    keys: Sequence[Any],
    after: Key | None,
    size: int,
) -> tuple[list[Any], Key | None]:
    """Up to `size` rows after the keyset `after` (the key columns are appended to
    each row, then split off), and the keyset of the last one if more follow."""
    if after is not None:
        stmt = stmt.where(_after(keys, after))
    found = [
        tuple(r) for r in session.execute(stmt.add_columns(*keys).order_by(*keys).limit(size + 1))
    ]
    rows = [r[: -len(keys)] for r in found[:size]]
    return rows, (found[size - 1][-len(keys) :] if len(found) > size else None)


def _visible(ctx: Context) -> ColumnElement[bool]:
    return case_filter(ctx.principal, Perm.DATA_EXPORT)


def _columns(names: str) -> list[str]:
    return names.split()


CASE_HEADER = [
    *_columns("case_id partnership local_reference kind title rulebook rulebook_version"),
    *_columns("state stage created_at"),
    *DATE_FACTS,
    *_columns("decision publication_status open_actions unactioned_recommendations close_reason"),
]


def _cases(session: Session, ctx: Context, after: Key | None, size: int) -> Page:
    stmt = (
        select(Case, Partnership.code)
        .join(Partnership, Partnership.id == Case.partnership_id)
        .where(_visible(ctx))
    )
    rows, last = _page(session, stmt, [Case.created_at, Case.id], after, size)
    return Page(
        [
            [
                *(c.id, code, c.local_reference, c.kind, c.title, c.rulebook_id),
                *(c.rulebook_version, c.state, c.stage, c.created_at),
                *(getattr(c, f) for f in DATE_FACTS),
                *(c.decision, c.publication_status, c.open_actions, c.unactioned_recommendations),
                c.close_reason if sees_personal_data(ctx.principal, c) else None,
            ]
            for c, code in rows
        ],
        last,
    )


DEADLINE_HEADER = _columns(
    "case_id partnership local_reference rulebook deadline title state from_date "
    "due_date met_date on_time"
)


def _deadlines(session: Session, ctx: Context, after: Key | None, size: int) -> Page:
    """Every deadline that applies (not `not_applicable`); `overdue` for a pending one
    due before today, as the API shows it."""
    stmt = (
        select(CaseDeadline, Case, Partnership.code)
        .join(Case, Case.id == CaseDeadline.case_id)
        .join(Partnership, Partnership.id == Case.partnership_id)
        .where(_visible(ctx), CaseDeadline.state != "not_applicable")
    )
    keys = [Case.created_at, Case.id, CaseDeadline.name]
    rows, last = _page(session, stmt, keys, after, size)
    out: list[list[object]] = []
    for d, c, code in rows:
        titles = {
            r.name: r.title for r in ctx.rulebooks.get(c.rulebook_id, c.rulebook_version).deadlines
        }
        overdue = d.state == "pending" and d.due_date is not None and d.due_date < ctx.today
        out.append(
            [
                *(c.id, code, c.local_reference, f"{c.rulebook_id} v{c.rulebook_version}"),
                *(d.name, titles.get(d.name, d.name), "overdue" if overdue else d.state),
                *(d.from_date, d.due_date, d.met_date, d.on_time),
            ]
        )
    return Page(out, last)


ACTION_HEADER = _columns(
    "action_id case_id partnership local_reference recommendation_number agency "
    "agency_name due_date status overdue created_at updated_at description owner "
    "owner_username status_reason"
)


def _actions(session: Session, ctx: Context, after: Key | None, size: int) -> Page:
    stmt = (
        select(Action, Recommendation.number, Case, Partnership.code)
        .join(Recommendation, Recommendation.id == Action.recommendation_id)
        .join(Case, Case.id == Action.case_id)
        .join(Partnership, Partnership.id == Case.partnership_id)
        .where(_visible(ctx))
    )
    rows, last = _page(session, stmt, [Action.due_date, Action.id], after, size)
    out: list[list[object]] = []
    for a, number, c, code in rows:
        closed = a.status in CLOSED_STATUSES
        free = (a.description, a.owner, a.owner_username, a.status_reason)
        shown = sees_personal_data(ctx.principal, c, a.owner_username)
        out.append(
            [
                *(a.id, c.id, code, c.local_reference, number, a.agency, a.agency_name),
                *(a.due_date, a.status, not closed and a.due_date < ctx.today),
                *(a.created_at, a.updated_at),
                *(free if shown else (None,) * len(free)),
            ]
        )
    return Page(out, last)


EXPORTS = {
    "cases": Export(CASE_HEADER, _cases),
    "deadlines": Export(DEADLINE_HEADER, _deadlines),
    "actions": Export(ACTION_HEADER, _actions),
}
