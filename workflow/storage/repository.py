"""Every query the services need, in one place."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import ColumnElement, and_, or_, select
from sqlalchemy.orm import Session, defer

from workflow.core.errors import CaseNotFound, InvalidCursor
from workflow.storage.models import Case, CaseDeadline, CaseEvent, ThemeTag


def get_case(session: Session, case_id: uuid.UUID) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    return case


def get_case_for_update(session: Session, case_id: uuid.UUID) -> Case:
    """The case, locked against concurrent commands until the transaction ends.

    PostgreSQL: SELECT ... FOR UPDATE. SQLite: the write transaction already
    holds the database's write lock (BEGIN IMMEDIATE)."""
    stmt = select(Case).where(Case.id == case_id)
    if session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()
    case = session.execute(stmt).scalar_one_or_none()
    if case is None:
        raise CaseNotFound(f"no case {case_id}")
    return case


def encode_cursor(created_at: datetime, case_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{case_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        when, ident = raw.split("|", 1)
        instant = datetime.fromisoformat(when)
        if instant.tzinfo is None:
            raise ValueError("naive")
        return instant.astimezone(UTC), uuid.UUID(ident)
    except (ValueError, UnicodeDecodeError, OverflowError):
        raise InvalidCursor("the cursor is not valid; start again without one") from None


@dataclass(frozen=True)
class DeadlineFilter:
    """Cases with a live (pending) deadline: by name, overdue on `today`, or due
    between `today` and `due_by` inclusive."""

    today: date
    name: str | None = None
    overdue: bool = False
    due_by: date | None = None

    def matches(self) -> ColumnElement[bool]:
        """Overdue alone: `case.next_due_date` (the earliest pending due date, kept by
        triggers: migration 0009) before today, read with the keyset order from the
        index `(created_at, id, next_due_date)`. Otherwise a probe per case (EXISTS,
        correlated on `case.id`, on the partial index of pending deadlines: migration
        0008), behind the same necessary condition on `next_due_date` where there is
        one, so that a page stops after `limit` matches without probing every case."""
        if self.overdue and not self.name and self.due_by is None:
            return Case.next_due_date < self.today
        stmt = select(CaseDeadline.case_id).where(
            CaseDeadline.case_id == Case.id, CaseDeadline.state == "pending"
        )
        if self.name:
            stmt = stmt.where(CaseDeadline.name == self.name)
        if self.overdue:
            stmt = stmt.where(CaseDeadline.due_date < self.today)
        if self.due_by is not None:
            stmt = stmt.where(
                CaseDeadline.due_date >= self.today, CaseDeadline.due_date <= self.due_by
            )
        probe = stmt.exists()
        if self.overdue:  # some pending deadline due before today: so is the earliest
            return and_(Case.next_due_date < self.today, probe)
        if self.due_by is not None:  # some pending deadline due by `due_by`: so is the earliest
            return and_(Case.next_due_date <= self.due_by, probe)
        return probe


@dataclass(frozen=True)
class CaseQuery:
    """What a page of cases is filtered and ordered by (all optional)."""

    states: Sequence[str] = ()
    stages: Sequence[str] = ()
    rulebook_id: str | None = None
    partnership_ids: Sequence[uuid.UUID] = ()
    theme: str | None = None
    aware_from: date | None = None
    aware_to: date | None = None
    deadline: DeadlineFilter | None = None
    deadline_state: tuple[str | None, str] | None = None  # (deadline name or any, state)
    oldest_first: bool = False
    reference: str | None = None  # a part of the local reference (or title), any case
    extra: Sequence[ColumnElement[bool]] = ()  # conditions the caller built (text search)


def case_conditions(query: CaseQuery) -> list[ColumnElement[bool]]:
    """The WHERE conditions of `query` on `case` (visibility apart)."""
    q = query
    where: list[ColumnElement[bool]] = list(q.extra)
    if q.states:
        where.append(Case.state.in_(q.states))
    if q.stages:
        where.append(Case.stage.in_(q.stages))
    if q.rulebook_id:
        where.append(Case.rulebook_id == q.rulebook_id)
    if q.partnership_ids:
        where.append(Case.partnership_id.in_(q.partnership_ids))
    if q.reference:
        where.append(
            or_(
                Case.local_reference.icontains(q.reference, autoescape=True),
                Case.title.icontains(q.reference, autoescape=True),  # a thematic review's
            )
        )
    if q.theme:
        where.append(
            select(ThemeTag.case_id)
            .where(
                ThemeTag.subject_type == "case",
                ThemeTag.subject_id == Case.id,  # a case's own tags: subject_id is case_id
                ThemeTag.theme == q.theme,
            )
            .exists()
        )
    if q.aware_from:
        where.append(Case.aware_date >= q.aware_from)
    if q.aware_to:
        where.append(Case.aware_date <= q.aware_to)
    if q.deadline is not None:
        where.append(q.deadline.matches())
    if q.deadline_state is not None:
        name, state = q.deadline_state
        having = select(CaseDeadline.case_id).where(CaseDeadline.state == state)
        if name:
            having = having.where(CaseDeadline.name == name)
        where.append(Case.id.in_(having))
    return where


def list_cases(
    session: Session,
    *,
    visible: ColumnElement[bool],
    query: CaseQuery = CaseQuery(),
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Case], str | None]:
    """Newest (or oldest) first; keyset pagination on (created_at, id). Returns the
    page and the cursor of the next page (None on the last page)."""
    q = query
    stmt = select(Case).where(visible, *case_conditions(q))
    if cursor:
        when, ident = decode_cursor(cursor)
        after = (
            or_(Case.created_at > when, and_(Case.created_at == when, Case.id > ident))
            if q.oldest_first
            else or_(Case.created_at < when, and_(Case.created_at == when, Case.id < ident))
        )
        stmt = stmt.where(after)
    order = (
        (Case.created_at.asc(), Case.id.asc())
        if q.oldest_first
        else (Case.created_at.desc(), Case.id.desc())
    )
    # `details` (every stage record, JSON) is never needed in a list: left unloaded.
    stmt = stmt.options(defer(Case.details))
    rows: list[Case] = list(session.scalars(stmt.order_by(*order).limit(limit + 1)))
    more = len(rows) > limit
    page = rows[:limit]
    next_cursor = encode_cursor(page[-1].created_at, page[-1].id) if more and page else None
    return page, next_cursor


def timeline(session: Session, case_id: uuid.UUID) -> list[CaseEvent]:
    stmt = select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.sequence)
    return list(session.execute(stmt).scalars())


def next_deadlines(
    session: Session, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, date]]:
    """For each case, its earliest pending deadline (name, due date), in one query."""
    rows = session.execute(
        select(CaseDeadline.case_id, CaseDeadline.name, CaseDeadline.due_date)
        .where(
            CaseDeadline.case_id.in_(list(case_ids)),
            CaseDeadline.state == "pending",
            CaseDeadline.due_date.is_not(None),
        )
        .order_by(CaseDeadline.case_id, CaseDeadline.due_date, CaseDeadline.name)
    )
    out: dict[uuid.UUID, tuple[str, date]] = {}
    for case_id, name, due in rows:
        if due is not None:
            out.setdefault(case_id, (name, due))
    return out
