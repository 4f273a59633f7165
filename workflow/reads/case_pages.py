"""Pages of the caller's cases for people: the filters of `GET /cases`
(`queries.case_query`, so the same checks and the same `case_filter`), searched by
reference and text, in a chosen order, a page at a time forwards and backwards.

Keyset pagination, no cap: a cursor names the last (or first) row of the page it came
from and the way to go, so a page costs the same wherever it is. Orders:
- `newest` / `oldest`: by when the case was opened (created_at, id);
- `due`: the earliest pending deadline first (`case.next_due_date`), cases without
  one last, then by id.
A cursor is only good for the order it was made in (InvalidCursor otherwise).
No personal data: the rows are case summaries (state, stage, dates, next deadline)."""

from __future__ import annotations

import base64
import json
import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session, defer

from workflow.access.permissions import Perm
from workflow.access.principal import Principal
from workflow.access.scoping import case_filter
from workflow.context import Context
from workflow.core.errors import InvalidCursor, InvalidFacts
from workflow.core.words import word
from workflow.reads.attention import lateness
from workflow.reads.queries import CaseListRequest, case_query
from workflow.storage import repository
from workflow.storage.models import Case, Partnership

SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "due": "Next deadline soonest",
}
_NO_DUE_DATE = date(9999, 12, 31)  # sorts cases with no pending deadline last


@dataclass(frozen=True)
class NextDeadline:
    title: str  # the rulebook's words for it
    due_date: date
    overdue: bool
    when: str  # "overdue by 3 working days", "due today", "due in 2 working days"


@dataclass(frozen=True)
class CasePage:
    cases: list[Case]
    next_deadlines: dict[uuid.UUID, NextDeadline]  # each case's earliest pending one
    next_cursor: str | None
    previous_cursor: str | None
    total: int  # cases matching the filters, every page
    partnerships: dict[uuid.UUID, str]  # id -> name, of the cases on the page


def _next_deadlines(
    session: Session, ctx: Context, cases: list[Case], codes: dict[uuid.UUID, str]
) -> dict[uuid.UUID, NextDeadline]:
    out = {}
    found = repository.next_deadlines(session, [c.id for c in cases])
    for case in cases:
        if case.id not in found:
            continue
        name, due = found[case.id]
        rulebook = ctx.rulebooks.get(case.rulebook_id, case.rulebook_version)
        rule = next((d for d in rulebook.deadlines if d.name == name), None)
        division = (rule.calendar if rule else None) or rulebook.calendar
        overdue, when = lateness(ctx, division, codes.get(case.partnership_id), due)
        out[case.id] = NextDeadline(rule.title if rule else word(name), due, overdue, when)
    return out


def partnerships_of(session: Session, principal: Principal) -> list[tuple[str, str]]:
    """(code, name) of the partnerships whose cases the caller may list, by name: a
    national role's are every partnership."""
    stmt = select(Partnership.code, Partnership.name).order_by(Partnership.name)
    if not principal.has_national_scope(Perm.CASE_LIST):
        ids = principal.partnerships_with(Perm.CASE_LIST, scopes=("partnership", "assigned"))
        stmt = stmt.where(Partnership.id.in_(ids))
    return [(code, name) for code, name in session.execute(stmt)]


def _key_columns(sort: str) -> list[Any]:  # SQL expressions
    if sort == "due":
        return [func.coalesce(Case.next_due_date, _NO_DUE_DATE), Case.id]
    return [Case.created_at, Case.id]


def _key_of(case: Case, sort: str) -> list[str]:
    if sort == "due":
        return [(case.next_due_date or _NO_DUE_DATE).isoformat(), str(case.id)]
    return [case.created_at.isoformat(), str(case.id)]


def _parse_key(sort: str, raw: list[str]) -> tuple[Any, uuid.UUID]:
    first = date.fromisoformat(raw[0]) if sort == "due" else datetime.fromisoformat(raw[0])
    if isinstance(first, datetime) and first.tzinfo is None:
        raise ValueError("naive")
    return first, uuid.UUID(raw[1])


def encode(direction: str, sort: str, key: list[str]) -> str:
    raw = json.dumps([direction, sort, *key], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(cursor: str, sort: str) -> tuple[str, tuple[Any, uuid.UUID]]:
    """(direction "next" | "previous", the boundary row's key)."""
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        direction, made_for, *key = raw
        if direction not in ("next", "previous") or made_for != sort or len(key) != 2:
            raise ValueError("not this list's cursor")
        return direction, _parse_key(sort, key)
    except (ValueError, TypeError, UnicodeDecodeError, OverflowError):
        raise InvalidCursor("the cursor is not valid; start again without one") from None


def _beyond(sort: str, key: tuple[Any, uuid.UUID], forwards: bool) -> ColumnElement[bool]:
    """Rows after (forwards) or before `key` in the order of `sort`."""
    first, ident = _key_columns(sort)
    value, case_id = key
    ascending = sort != "newest"
    later = forwards == ascending  # comparing upwards
    if later:
        return or_(first > value, and_(first == value, ident > case_id))
    return or_(first < value, and_(first == value, ident < case_id))


def page_of_cases(
    session: Session,
    ctx: Context,
    request: CaseListRequest,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> CasePage:
    """One page of the caller's cases matching `request` in the order `request.sort`."""
    sort = request.sort
    if sort not in SORTS:
        raise InvalidFacts(f"unknown sort {sort!r}; one of: {', '.join(SORTS)}", "sort")
    query = case_query(session, ctx, request)
    where = [case_filter(ctx.principal), *repository.case_conditions(query)]
    total = session.scalar(select(func.count()).select_from(Case).where(*where)) or 0
    direction, key = decode(cursor, sort) if cursor else ("next", None)
    forwards = direction == "next"
    stmt = select(Case).where(*where).options(defer(Case.details))
    if key is not None:
        stmt = stmt.where(_beyond(sort, key, forwards))
    ascending = (sort != "newest") == forwards
    order = [c.asc() if ascending else c.desc() for c in _key_columns(sort)]
    rows = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    cases = rows[:limit] if forwards else list(reversed(rows[:limit]))
    has_next = more if forwards else key is not None
    has_previous = key is not None if forwards else more
    named = session.execute(
        select(Partnership.id, Partnership.code, Partnership.name).where(
            Partnership.id.in_({c.partnership_id for c in cases})
        )
    ).all()
    names = {pid: name for pid, _, name in named}
    codes = {pid: code for pid, code, _ in named}
    return CasePage(
        cases=cases,
        next_deadlines=_next_deadlines(session, ctx, cases, codes),
        next_cursor=encode("next", sort, _key_of(cases[-1], sort)) if cases and has_next else None,
        previous_cursor=encode("previous", sort, _key_of(cases[0], sort))
        if cases and has_previous
        else None,
        total=total,
        partnerships=names,
    )
