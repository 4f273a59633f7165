"""Learning themes: tag cases, recommendations and actions, and search the learning of
the cases a caller may list (`case_filter`); summaries are in learning_summary.py.
Services flush, never commit.

Tagging replaces a subject's set of themes. It changes neither the case's state nor
its facts, so the case's version (ETag) stays; it is audited ("tag_themes") and
locks the case row, so concurrent taggings of one case run one after the other.
Narrative snippets and recommendation texts are stage records (personal data): only
callers with `case.read_personal` on the case get them, and each such read is audited.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, delete, or_, select
from sqlalchemy.orm import Session

from workflow.access.permissions import Perm
from workflow.access.principal import Principal
from workflow.access.scoping import case_filter, require, sees_personal_data, visible_case
from workflow.context import Context
from workflow.core.errors import CaseNotFound, InvalidFacts
from workflow.core.themes import Taxonomy, Theme, snippet, unknown
from workflow.storage.models import Action, Case, Partnership, Recommendation, ThemeTag

CLOSED_ACTION_STATUSES = ("completed_signed_off", "not_achieved")
# (stage record, field) of the case narrative searched as free text.
NARRATIVE = (
    ("rapid_review", "summary"),
    ("rapid_review", "learning"),
    ("decision", "learning"),
    ("decision", "reasons"),
)


def tag(
    session: Session,
    ctx: Context,
    taxonomy: Taxonomy,
    case_id: uuid.UUID,
    themes: Sequence[str],
    subject: tuple[str, uuid.UUID] | None = None,
) -> list[str]:
    """Replace the themes of the case, or of its recommendation / action `subject`
    (kind, id); the themes now set, in the order given, without repeats."""
    case = visible_case(session, ctx.principal, case_id, for_update=True)
    require(ctx.principal, Perm.THEME_TAG, case)
    kind, subject_id = subject or ("case", case.id)
    if kind != "case":
        get = session.get
        row = get(Action, subject_id) if kind == "action" else get(Recommendation, subject_id)
        if row is None or row.case_id != case.id:
            raise CaseNotFound(f"no {kind} {subject_id} in case {case.id}")
    code = _code(session, case)
    slugs = taxonomy.check(themes, code)
    same = (ThemeTag.subject_type == kind, ThemeTag.subject_id == subject_id)
    session.execute(delete(ThemeTag).where(*same))
    session.add_all(
        ThemeTag(subject_type=kind, subject_id=subject_id, theme=s, case_id=case.id) for s in slugs
    )
    detail = {"subject_type": kind, "subject_id": str(subject_id), "themes": slugs}
    _audit(session, ctx, case, code, "tag_themes", detail)
    session.flush()
    return slugs


def themes_of(taxonomy: Taxonomy, principal: Principal) -> dict[str, Theme]:
    """The caller's taxonomy: national themes plus those of the partnerships it belongs
    to (every partnership's for a national-scope role)."""
    if any(g.scope == "all" for g in principal.grants):
        return taxonomy.for_partnerships(None)
    return taxonomy.for_partnerships(g.partnership_code for g in principal.grants)


@dataclass(frozen=True)
class CaseHit:
    case: Case
    partnership: str
    themes: list[str]
    snippet: str | None  # only with case.read_personal, and only when searching text


@dataclass(frozen=True)
class RecommendationHit:
    recommendation: Recommendation
    themes: list[str]
    text: str | None  # only with case.read_personal


def search(
    session: Session,
    ctx: Context,
    taxonomy: Taxonomy,
    *,
    theme: str | None,
    q: str | None,
    limit: int = 50,
) -> tuple[list[CaseHit], list[RecommendationHit]]:
    """Cases and recommendations carrying `theme` and/or containing `q`, newest first.

    Free text is a case-insensitive substring match in SQL, complete (no candidate
    cap) and alike on both databases: the narrative is read out of the JSON stage
    records with SQLAlchemy's JSON path operators (SQLite `json_extract`, PostgreSQL
    `#>>`; both return the unescaped text, unlike a cast of the whole document) and
    compared with `lower(..) LIKE lower(..)` / `ILIKE`, with `%` and `_` in `q`
    escaped. A recommendation's text is its own column. No index serves it: a search
    scans the caller's cases, fine at partnership scale (thousands). SQLite folds the
    case of ASCII letters only."""
    q = (q or "").strip() or None
    if theme is None and q is None:
        raise InvalidFacts("give a theme, a text to look for (q), or both", "q")
    _check_theme(taxonomy, ctx.principal, theme)
    where: list[ColumnElement[bool]] = [case_filter(ctx.principal)]
    rec_where = list(where)
    if theme is not None:
        where.append(Case.id.in_(_tagged("case", theme)))
        rec_where.append(Recommendation.id.in_(_tagged("recommendation", theme)))
    if q is not None:
        # Searching narrative text reveals what it contains: only where the caller may
        # read it (least privilege; viewers and the national role search by theme).
        where.append(case_filter(ctx.principal, Perm.CASE_READ_PERSONAL))
        rec_where.append(case_filter(ctx.principal, Perm.CASE_READ_PERSONAL))
        where.append(mentions(q))
        rec_where.append(Recommendation.text.icontains(q, autoescape=True))
    cases = list(
        session.scalars(
            select(Case).where(*where).order_by(Case.created_at.desc(), Case.id).limit(limit)
        )
    )
    recs = _recommendations(session, rec_where, newest_first=True, limit=limit)
    personal = _personal(ctx.principal, [*cases, *(c for _, c in recs)])
    snippets = _snippets(session, [c for c in cases if c.id in personal], q) if q else {}
    read = [c for c in cases if c.id in snippets] + [c for _, c in recs if c.id in personal]
    audit_reads(session, ctx, read, "search_learning")
    case_themes = _themes(session, "case", [c.id for c in cases])
    rec_themes = _themes(session, "recommendation", [r.id for r, _ in recs])
    return (
        [
            CaseHit(c, _code(session, c), case_themes.get(c.id, []), snippets.get(c.id))
            for c in cases
        ],
        [
            RecommendationHit(r, rec_themes.get(r.id, []), r.text if c.id in personal else None)
            for r, c in recs
        ],
    )


def mentions(q: str) -> ColumnElement[bool]:
    """Cases whose narrative or recommendations contain `q` (see `search`). Personal
    data: the caller also limits the cases to those it may read (CASE_READ_PERSONAL)."""
    in_rec = Recommendation.text.icontains(q, autoescape=True)
    narrative = [Case.details[path].as_string().icontains(q, autoescape=True) for path in NARRATIVE]
    return or_(*narrative, Case.id.in_(select(Recommendation.case_id).where(in_rec)))


def _check_theme(taxonomy: Taxonomy, principal: Principal, slug: str | None) -> Theme | None:
    mine = themes_of(taxonomy, principal)
    if slug is not None and slug not in mine:
        raise unknown(slug, mine, "theme", "your partnerships")
    return None if slug is None else mine[slug]


def _tagged(kind: str, theme: str) -> Select[uuid.UUID]:
    return select(ThemeTag.subject_id).where(ThemeTag.subject_type == kind, ThemeTag.theme == theme)


def _recommendations(
    session: Session, where: Sequence[ColumnElement[bool]], *, newest_first: bool, limit: int = 0
) -> list[tuple[Recommendation, Case]]:
    created = Case.created_at.desc() if newest_first else Case.created_at
    stmt = (
        select(Recommendation, Case)
        .join(Case, Case.id == Recommendation.case_id)
        .where(*where)
        .order_by(created, Case.id, Recommendation.number)
    )
    return [(r, c) for r, c in session.execute(stmt.limit(limit) if limit else stmt)]


def _themes(session: Session, kind: str, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = {}
    rows = session.execute(
        select(ThemeTag.subject_id, ThemeTag.theme)
        .where(ThemeTag.subject_type == kind, ThemeTag.subject_id.in_(set(ids)))
        .order_by(ThemeTag.theme)
    )
    for subject_id, theme in rows:
        out.setdefault(subject_id, []).append(theme)
    return out


def _personal(principal: Principal, cases: Iterable[Case]) -> set[uuid.UUID]:
    """The cases (of `cases`) whose personal data the caller is shown."""
    return {c.id for c in cases if sees_personal_data(principal, c)}


def _snippets(session: Session, cases: Sequence[Case], q: str) -> dict[uuid.UUID, str]:
    """Where `q` occurs in each case's narrative, else in its recommendations."""
    texts = {c.id: [(c.details.get(s) or {}).get(f) for s, f in NARRATIVE] for c in cases}
    rows = session.execute(
        select(Recommendation.case_id, Recommendation.text)
        .where(Recommendation.case_id.in_(list(texts)))
        .order_by(Recommendation.number)
    )
    for case_id, text in rows:
        texts[case_id].append(text)
    found = {i: snippet((t for t in ts if isinstance(t, str)), q) for i, ts in texts.items()}
    return {i: text for i, text in found.items() if text is not None}


def audit_reads(session: Session, ctx: Context, cases: Iterable[Case], action: str) -> None:
    """One audit record per case whose personal data was returned, as for any read."""
    for case in {c.id: c for c in cases}.values():
        _audit(session, ctx, case, _code(session, case), action, {})


def _audit(
    session: Session, ctx: Context, case: Case, chain: str, action: str, detail: dict[str, Any]
) -> None:
    ctx.audit(session, action, chain=chain, case_id=case.id, detail=detail)


def _code(session: Session, case: Case) -> str:
    partnership = session.get(Partnership, case.partnership_id)
    assert partnership is not None
    return partnership.code
