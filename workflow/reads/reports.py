"""The figures of a partnership's annual report (Working Together 2023: the partners
report at least every 12 months on the reviews and their effect), for a calendar year.

Same scope as the dashboard (workflow.reads.dashboard.scope) and no personal data.
A case belongs to the year of each of its events: notified, rapid review sent,
decided, published; its themes count when any of notification, decision or
publication falls in the year. Read-only: flush, never commit (nothing is written).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy import case as sql_case
from sqlalchemy.orm import InstrumentedAttribute, Session

from workflow.context import LOCAL_ZONE, Context
from workflow.reads.dashboard import Timeliness, scope, timeliness
from workflow.storage.models import Action, ActionUpdate, Case, ThemeTag

# action_update status -> the figure counting the actions that reached it in the year
ACTION_FIGURES = {
    "completed_awaiting_evidence": "completed",
    "completed_signed_off": "signed_off",
    "not_achieved": "not_achieved",
}


@dataclass(frozen=True)
class AnnualReport:
    year: int
    partnership: str | None
    reviews_notified: int
    rapid_reviews_completed: int
    decisions: dict[str, int]
    reviews_published: int
    themes: dict[str, int]
    actions: dict[str, int]
    timeliness: Timeliness


def annual_report(
    session: Session, ctx: Context, year: int, partnership: str | None = None
) -> AnnualReport:
    visible = scope(session, ctx, partnership)
    start, end = date(year, 1, 1), date(year, 12, 31)

    def within(column: InstrumentedAttribute[date | None]) -> ColumnElement[bool]:
        return column.between(start, end)

    def counted(column: InstrumentedAttribute[date | None]) -> ColumnElement[int]:
        return func.sum(sql_case((within(column), 1), else_=0))

    notified, rapid, published = session.execute(
        select(
            counted(Case.notification_date),
            counted(Case.rapid_review_sent_date),
            counted(Case.published_date),
        ).where(visible)
    ).one()
    decisions = session.execute(
        select(Case.decision, func.count())
        .where(visible, within(Case.decision_date), Case.decision.is_not(None))
        .group_by(Case.decision)
    ).all()
    of_year = or_(
        within(Case.notification_date), within(Case.decision_date), within(Case.published_date)
    )
    themes = session.execute(
        select(ThemeTag.theme, func.count(ThemeTag.case_id.distinct()))
        .join(Case, Case.id == ThemeTag.case_id)
        .where(visible, ThemeTag.subject_type == "case", of_year)
        .group_by(ThemeTag.theme)
        .order_by(ThemeTag.theme)
    ).all()
    return AnnualReport(
        year=year,
        partnership=partnership,
        reviews_notified=int(notified or 0),
        rapid_reviews_completed=int(rapid or 0),
        decisions={str(decision): n for decision, n in decisions},
        reviews_published=int(published or 0),
        themes={theme: n for theme, n in themes},
        actions=_actions(session, visible, year),
        timeliness=timeliness(session, ctx, visible, start, end),
    )


def _actions(session: Session, visible: ColumnElement[bool], year: int) -> dict[str, int]:
    """Actions reported complete, signed off or closed as not achieved in the year (by
    the time of that update, in English local time); each action counted once per figure."""
    begin = datetime(year, 1, 1, tzinfo=LOCAL_ZONE)
    after = datetime(year + 1, 1, 1, tzinfo=LOCAL_ZONE)
    rows = session.execute(
        select(ActionUpdate.status, func.count(ActionUpdate.action_id.distinct()))
        .join(Action, Action.id == ActionUpdate.action_id)
        .join(Case, Case.id == Action.case_id)
        .where(
            visible,
            ActionUpdate.status.in_(ACTION_FIGURES),
            ActionUpdate.recorded_at >= begin,
            ActionUpdate.recorded_at < after,
        )
        .group_by(ActionUpdate.status)
    )
    counts = {ACTION_FIGURES[status]: n for status, n in rows}
    return {figure: counts.get(figure, 0) for figure in ACTION_FIGURES.values()}


def csv_rows(report: AnnualReport) -> list[list[object]]:
    """The report as (figure, item, value) rows, for a CSV file."""
    t = report.timeliness
    rows: list[list[object]] = [
        ["year", "", report.year],
        ["partnership", "", report.partnership or "all"],
        ["reviews_notified", "", report.reviews_notified],
        ["rapid_reviews_completed", "", report.rapid_reviews_completed],
        *(["decisions", k, v] for k, v in sorted(report.decisions.items())),
        ["reviews_published", "", report.reviews_published],
        *(["themes", k, v] for k, v in report.themes.items()),
        *(["actions", k, v] for k, v in report.actions.items()),
    ]
    for key, share in t.shares.items():
        rows += [
            [f"timeliness.{key}", "met", share.met],
            [f"timeliness.{key}", "on_time", share.on_time],
            [f"timeliness.{key}", "share", _blank(share.share)],
        ]
    for key, median in t.medians.items():
        rows += [
            [f"median_working_days.{key}", "cases", median.cases],
            [f"median_working_days.{key}", "median", _blank(median.working_days)],
        ]
    return rows


def _blank(value: float | None) -> object:
    return "" if value is None else value
