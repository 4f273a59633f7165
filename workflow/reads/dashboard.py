"""Summary figures over the cases a caller may list: cases by stage, overdue and
due-soon deadlines, open and overdue actions by agency, and timeliness for a period.

No personal data: counts, deadline names, case ids and local references only. Each
figure is a handful of aggregate SQL queries over `case`, `case_deadline` and
`action` (cases by stage: `case_stage_tally` for whole partnerships, see
dashboard_tally.py); only the medians read rows (the date columns they need), as
working days are counted with the England and Wales calendar in Python.
Read-only: services flush, never commit, and this one writes nothing.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.elements import True_

from workflow.access.permissions import Perm, refusal
from workflow.access.scoping import case_filter
from workflow.cases.action_plan import OPEN_STATUSES
from workflow.context import Context
from workflow.core.calendar import WorkingDayCalendar, add_months
from workflow.core.errors import Forbidden, InvalidFacts
from workflow.reads.dashboard_tally import cases_by_stage
from workflow.storage.models import Action, Case, CaseDeadline, Partnership

DUE_SOON_WORKING_DAYS = 5
DUE_SOON_LIMIT = 200  # items listed; `count` is always the full number
# figure -> the deadline whose on-time share it is
SHARES = {
    "notifications": "panel_notification",  # 5 working days after awareness
    "rapid_reviews": "rapid_review_sent",  # 15 working days (from awareness or notification)
    "lcsprs": "lcspr_published",  # 6 months after the decision
}
# interval -> (start fact, end fact); a case counts in the period of its end fact
INTERVALS = {
    "aware_to_notification": ("aware_date", "notification_date"),
    "notification_to_rapid_review": ("notification_date", "rapid_review_sent_date"),
    "rapid_review_to_decision": ("rapid_review_sent_date", "decision_date"),
    "decision_to_publication": ("decision_date", "published_date"),
}


@dataclass(frozen=True)
class Share:
    """Deadlines met in the period, and how many of them on time."""

    met: int
    on_time: int

    @property
    def share(self) -> float | None:
        return round(self.on_time / self.met, 4) if self.met else None


@dataclass(frozen=True)
class Median:
    cases: int
    working_days: float | None


@dataclass(frozen=True)
class Timeliness:
    start: date
    end: date
    shares: dict[str, Share]
    medians: dict[str, Median]


@dataclass(frozen=True)
class DueSoon:
    case_id: uuid.UUID
    local_reference: str | None
    deadline: str
    due_date: date


@dataclass(frozen=True)
class AgencyActions:
    open: int
    overdue: int


@dataclass(frozen=True)
class Dashboard:
    as_of: date
    partnership: str | None
    cases_by_stage: dict[str, int]
    overdue_deadlines: dict[str, int]
    due_soon_until: date
    due_soon_count: int
    due_soon: list[DueSoon]
    actions_by_agency: dict[str, AgencyActions]
    timeliness: Timeliness


def england_and_wales(ctx: Context) -> WorkingDayCalendar:
    return ctx.calendars.calendar("england-and-wales")


def scope(session: Session, ctx: Context, partnership: str | None) -> ColumnElement[bool]:
    """The cases the figures cover: those the caller may see summarised, optionally
    of one partnership. An unknown partnership and one out of reach look the same."""
    return resolve(session, ctx, partnership)[0]


def resolve(
    session: Session, ctx: Context, partnership: str | None
) -> tuple[ColumnElement[bool], uuid.UUID | None]:
    """`scope`, and the id of the partnership named (None when none is)."""
    principal = ctx.principal
    national = principal.has_national_scope(Perm.DASHBOARD_READ)
    mine = principal.partnerships_with(Perm.DASHBOARD_READ, scopes=("partnership", "assigned"))
    if not (national or mine):
        raise Forbidden(refusal(Perm.DASHBOARD_READ))
    visible = case_filter(principal, Perm.DASHBOARD_READ)
    if partnership is None:
        return visible, None
    found = session.scalar(select(Partnership.id).where(Partnership.code == partnership))
    if found is None or not (national or found in mine):
        codes = sorted({g.partnership_code for g in principal.grants if g.partnership_id in mine})
        hint = "any partnership's code" if national else "one of: " + ", ".join(codes)
        raise InvalidFacts(f"no partnership {partnership!r} for you; {hint}", "partnership")
    return and_(visible, Case.partnership_id == found), found


def default_period(today: date) -> tuple[date, date]:
    """The last 12 months, today included."""
    return add_months(today, -12) + timedelta(days=1), today


def dashboard(
    session: Session,
    ctx: Context,
    *,
    partnership: str | None = None,
    start: date | None = None,
    end: date | None = None,
) -> Dashboard:
    visible, found = resolve(session, ctx, partnership)
    today = ctx.today
    default_start, default_end = default_period(today)
    start, end = start or default_start, end or default_end
    if start > end:
        raise InvalidFacts(f"from ({start}) is after to ({end})", "from")
    pending = (CaseDeadline.state == "pending", visible)
    deadlines = within(select(CaseDeadline.name), CaseDeadline.case_id, visible)
    overdue = session.execute(
        deadlines.add_columns(func.count())
        .where(*pending, CaseDeadline.due_date < today)
        .group_by(CaseDeadline.name)
    ).all()
    until = england_and_wales(ctx).add_working_days(today, DUE_SOON_WORKING_DAYS)
    soon = (*pending, CaseDeadline.due_date >= today, CaseDeadline.due_date <= until)
    soon_count = session.scalar(
        within(select(func.count()).select_from(CaseDeadline), CaseDeadline.case_id, visible).where(
            *soon
        )
    )
    soon_rows = session.execute(
        select(CaseDeadline.name)
        .join(Case, Case.id == CaseDeadline.case_id)
        .add_columns(CaseDeadline.case_id, Case.local_reference, CaseDeadline.due_date)
        .where(*soon)
        .order_by(CaseDeadline.due_date, CaseDeadline.case_id, CaseDeadline.name)
        .limit(DUE_SOON_LIMIT)
    ).all()
    return Dashboard(
        as_of=today,
        partnership=partnership,
        cases_by_stage=cases_by_stage(session, ctx.principal, found, visible),
        overdue_deadlines={name: n for name, n in overdue},
        due_soon_until=until,
        due_soon_count=soon_count or 0,
        due_soon=[DueSoon(c, ref, name, due) for name, c, ref, due in soon_rows],
        actions_by_agency=actions_by_agency(session, visible, today),
        timeliness=timeliness(session, ctx, visible, start, end),
    )


S = TypeVar("S", bound=Select[*tuple[Any, ...]])


def within(stmt: S, case_id: InstrumentedAttribute[uuid.UUID], visible: ColumnElement[bool]) -> S:
    """`stmt` limited to the visible cases: joined to `case` only when the scope
    needs a column of it (a national scope is every case, and the join would read
    the whole `case` table for nothing)."""
    if isinstance(visible, True_):
        return stmt
    return stmt.join(Case, Case.id == case_id)


def actions_by_agency(
    session: Session, visible: ColumnElement[bool], today: date
) -> dict[str, AgencyActions]:
    """Open actions (not signed off, not closed as not achieved) and the overdue ones
    among them (due before today), per agency."""
    late = func.sum(sql_case((Action.due_date < today, 1), else_=0))
    rows = session.execute(
        within(select(Action.agency, func.count(), late), Action.case_id, visible)
        .where(visible, Action.status.in_(OPEN_STATUSES))
        .group_by(Action.agency)
    )
    return {agency: AgencyActions(n, int(n_late or 0)) for agency, n, n_late in rows}


def timeliness(
    session: Session, ctx: Context, visible: ColumnElement[bool], start: date, end: date
) -> Timeliness:
    """On-time shares of the deadlines met in [start, end] (by the date met), and the
    median working days of each interval ending in [start, end]."""
    on_time = func.sum(sql_case((CaseDeadline.on_time.is_(True), 1), else_=0))
    rows = session.execute(
        within(select(CaseDeadline.name, func.count(), on_time), CaseDeadline.case_id, visible)
        .where(
            visible,
            CaseDeadline.name.in_(SHARES.values()),
            CaseDeadline.state == "met",
            CaseDeadline.met_date.between(start, end),
        )
        .group_by(CaseDeadline.name)
    )
    met = {name: Share(n, int(n_on_time or 0)) for name, n, n_on_time in rows}
    shares = {key: met.get(name, Share(0, 0)) for key, name in SHARES.items()}
    return Timeliness(start, end, shares, medians(session, ctx, visible, start, end))


def medians(
    session: Session, ctx: Context, visible: ColumnElement[bool], start: date, end: date
) -> dict[str, Median]:
    """Per interval, one query on the index of its end date, counted per distinct
    (start, end) pair so that only the pairs travel, not every case."""
    found: dict[str, list[tuple[date, date, int]]] = {}
    for key, (first, last) in INTERVALS.items():
        a, b = getattr(Case, first), getattr(Case, last)
        found[key] = [
            (x, y, n)
            for x, y, n in session.execute(
                select(a, b, func.count())
                .where(visible, b.between(start, end), a.is_not(None))
                .group_by(a, b)
            )
        ]
    between = working_days_counter(
        england_and_wales(ctx), [d for pairs in found.values() for x, y, _ in pairs for d in (x, y)]
    )
    out: dict[str, Median] = {}
    for key, pairs in found.items():
        days = Counter[int]()
        for x, y, n in pairs:
            days[between(x, y)] += n
        out[key] = Median(days.total(), weighted_median(days))
    return out


def weighted_median(counts: Counter[int]) -> float | None:
    """`statistics.median` of a multiset given as value -> how many times."""
    total = counts.total()
    if not total:
        return None
    ordered = sorted(counts.items())
    lower_rank, upper_rank = (total - 1) // 2, total // 2  # 0-based middle ranks
    seen, lower, upper = 0, None, None
    for value, n in ordered:
        if lower is None and seen + n > lower_rank:
            lower = value
        if seen + n > upper_rank:
            upper = value
            break
        seen += n
    assert lower is not None
    assert upper is not None
    return (lower + upper) / 2


def working_days_counter(
    calendar: WorkingDayCalendar, dates: list[date]
) -> Callable[[date, date], int]:
    """`calendar.working_days_between`, in constant time per pair: a running count of
    working days over the span of `dates` (one calendar lookup per day of the span,
    instead of one per day of every interval)."""
    if not dates:
        return calendar.working_days_between
    first, last = min(dates), max(dates)
    ordinal: dict[date, int] = {}
    count, day = 0, first
    while day <= last:
        count += calendar.is_working_day(day)
        ordinal[day] = count  # working days in [first, day]
        day += timedelta(days=1)

    def between(a: date, b: date) -> int:
        if b >= a:  # working days d with a < d <= b
            return ordinal[b] - ordinal[a]
        return calendar.working_days_between(a, b)

    return between
