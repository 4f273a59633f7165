"""Learning summaries per theme: cases, recommendations, open and overdue actions, and
the recommendations that recur across reviews (of the cases a caller may list)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import case as sql_case
from sqlalchemy import func, select, union
from sqlalchemy.orm import Session

from workflow.access.scoping import case_filter
from workflow.context import Context
from workflow.core.themes import Taxonomy, Theme, recurring
from workflow.reads.learning import (
    CLOSED_ACTION_STATUSES,
    _check_theme,
    _personal,
    _recommendations,
    _tagged,
    audit_reads,
    themes_of,
)
from workflow.storage.models import Action, Case, Recommendation, ThemeTag


@dataclass(frozen=True)
class ThemeCounts:
    theme: Theme
    cases: int = 0
    recommendations: int = 0
    recommendation_cases: int = 0  # the cases the theme's recommendations come from
    open_actions: int = 0
    overdue_actions: int = 0


@dataclass(frozen=True)
class RecurringGroup:
    """Near-identical recommendations of one theme (workflow.core.themes.recurring);
    `text` only with case.read_personal on every case of the group."""

    text: str | None
    case_ids: list[uuid.UUID]
    recommendation_ids: list[uuid.UUID]


def summary(session: Session, ctx: Context, taxonomy: Taxonomy) -> list[ThemeCounts]:
    """Every theme of the caller's taxonomy with its counts over the caller's cases."""
    counts = _counts(session, ctx, None)
    mine = themes_of(taxonomy, ctx.principal)
    return [ThemeCounts(theme, **counts.get(slug, {})) for slug, theme in mine.items()]


def theme_summary(
    session: Session, ctx: Context, taxonomy: Taxonomy, slug: str
) -> tuple[ThemeCounts, list[RecurringGroup]]:
    """One theme's counts and its recurring recommendations: grouped by near-identical
    text when they come from two or more different cases."""
    theme = _check_theme(taxonomy, ctx.principal, slug)
    assert theme is not None
    counts = ThemeCounts(theme, **_counts(session, ctx, slug).get(slug, {}))
    tagged = Recommendation.id.in_(_tagged("recommendation", slug))
    rows = _recommendations(session, [case_filter(ctx.principal), tagged], newest_first=False)
    cases = {c.id: c for _, c in rows}
    personal = _personal(ctx.principal, cases.values())
    groups = [
        RecurringGroup(
            text if all(m[1] in personal for m in members) else None,
            list(dict.fromkeys(m[1] for m in members)),
            [m[0].id for m in members],
        )
        for members in recurring((r, c.id, r.text) for r, c in rows)
        for text in [members[0][2]]
    ]
    read = [cases[i] for g in groups if g.text is not None for i in g.case_ids]
    audit_reads(session, ctx, read, "read_learning")
    return counts, groups


def _counts(session: Session, ctx: Context, only: str | None) -> dict[str, dict[str, int]]:
    """theme -> ThemeCounts fields, over the caller's cases (`only`: one theme)."""
    visible = case_filter(ctx.principal)
    one = [] if only is None else [ThemeTag.theme == only]
    out: dict[str, dict[str, int]] = {}
    for kind, key in (("case", "cases"), ("recommendation", "recommendations")):
        subjects, n_cases = ThemeTag.subject_id.distinct(), ThemeTag.case_id.distinct()
        rows = session.execute(
            select(ThemeTag.theme, func.count(subjects), func.count(n_cases))
            .join(Case, Case.id == ThemeTag.case_id)
            .where(visible, ThemeTag.subject_type == kind, *one)
            .group_by(ThemeTag.theme)
        )
        for theme, n, cases in rows:
            out.setdefault(theme, {})[key] = n
            if kind == "recommendation":
                out[theme]["recommendation_cases"] = cases
    # An action counts for a theme when it, or its recommendation, carries the theme.
    direct = select(ThemeTag.theme, ThemeTag.subject_id.label("action_id")).where(
        ThemeTag.subject_type == "action", *one
    )
    via = (
        select(ThemeTag.theme, Action.id)
        .join(Action, Action.recommendation_id == ThemeTag.subject_id)
        .where(ThemeTag.subject_type == "recommendation", *one)
    )
    pairs = union(direct, via).subquery()
    overdue = func.sum(sql_case((Action.due_date < ctx.today, 1), else_=0))
    rows = session.execute(
        select(pairs.c.theme, func.count(), overdue)
        .join(Action, Action.id == pairs.c.action_id)
        .join(Case, Case.id == Action.case_id)
        .where(visible, Action.status.not_in(CLOSED_ACTION_STATUSES))
        .group_by(pairs.c.theme)
    )
    for theme, n_open, n_overdue in rows:
        out.setdefault(theme, {}).update(open_actions=n_open, overdue_actions=n_overdue or 0)
    return out
