"""Learning themes: the taxonomy, tagging, search and the learning summaries.

Tagging is audited like a command (a refusal too) but does not change the case's
version, so it needs no If-Match. Narrative snippets and recommendation texts are
returned only to callers who may read the case's personal data.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from api.deps import Ctx, Services, ServicesDep
from api.errors import responses
from api.gateway import Outcome, transact
from workflow.context import Context
from workflow.core.inputs import Input
from workflow.reads import learning, learning_summary

router = APIRouter(prefix="/api/v1", tags=["learning"])
TAG_ERRORS = responses(401, 403, 404, 413, 422, 503)
READ_ERRORS = responses(401, 422, 503)


class ThemeOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    slug: str
    label: str
    description: str
    partnership: str | None = Field(description="Whose own theme; null: a national theme.")


class ThemeList(BaseModel):
    items: list[ThemeOut]


class ThemesIn(Input):
    themes: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        max_length=30,
        description="Theme slugs (GET /themes); replaces the current set, [] clears it.",
    )


class TagsOut(BaseModel):
    case_id: uuid.UUID
    subject_type: str = Field(description="case, recommendation or action")
    subject_id: uuid.UUID
    themes: list[str]


class CaseResult(BaseModel):
    id: uuid.UUID
    partnership: str
    state: str
    stage: str
    themes: list[str]
    snippet: str | None = Field(
        description="Where the text occurs; only if you may read the case's personal data."
    )


class RecommendationResult(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    number: int
    themes: list[str]
    text: str | None = Field(description="Only if you may read the case's personal data.")


class SearchOut(BaseModel):
    cases: list[CaseResult]
    recommendations: list[RecommendationResult]


class ThemeCountsOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    theme: ThemeOut
    cases: int = Field(description="Cases tagged with the theme.")
    recommendations: int = Field(description="Recommendations tagged with the theme.")
    recommendation_cases: int = Field(
        description="Different cases those recommendations come from (2+: the learning recurs)."
    )
    open_actions: int = Field(
        description="Actions tagged, or of a recommendation tagged, with the theme that are "
        "neither signed off as complete nor closed as not achieved."
    )
    overdue_actions: int = Field(description="Open actions whose due date is before as_of.")


class RecurringOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    text: str | None = Field(
        description="The first wording; only if you may read the personal data of every case."
    )
    case_ids: list[uuid.UUID]
    recommendation_ids: list[uuid.UUID]


class ThemeSummaryOut(BaseModel):
    as_of: date
    counts: ThemeCountsOut
    recurring_recommendations: list[RecurringOut] = Field(
        description="The theme's recommendations grouped by near-identical text (case, "
        "whitespace and punctuation ignored), when they come from 2+ different cases; "
        "groups spanning the most cases first."
    )


class SummaryOut(BaseModel):
    as_of: date
    items: list[ThemeCountsOut]


@router.get("/themes", response_model=ThemeList, responses=responses(401, 503))
async def list_themes(services: ServicesDep, ctx: Ctx) -> ThemeList:
    """Your taxonomy: the national themes and your partnerships' own."""
    mine = learning.themes_of(services.taxonomy, ctx.principal)
    return ThemeList(items=[ThemeOut.model_validate(t) for t in mine.values()])


async def _tag(
    services: Services,
    ctx: Context,
    case_id: uuid.UUID,
    body: ThemesIn,
    subject: tuple[str, uuid.UUID] | None,
) -> TagsOut:
    def work(session: Session) -> Outcome:
        themes = learning.tag(session, ctx, services.taxonomy, case_id, body.themes, subject)
        kind, subject_id = subject or ("case", case_id)
        out = TagsOut(case_id=case_id, subject_type=kind, subject_id=subject_id, themes=themes)
        return Outcome(200, out.model_dump(mode="json"))

    outcome, _ = await services.call(
        transact, services.database, ctx, action="tag_themes", case_id=case_id, work=work
    )
    return TagsOut.model_validate(outcome.body)


@router.put("/cases/{case_id}/themes", response_model=TagsOut, responses=TAG_ERRORS)
async def tag_case(case_id: uuid.UUID, body: ThemesIn, services: ServicesDep, ctx: Ctx) -> TagsOut:
    """Set the case's themes (the case's version does not change)."""
    return await _tag(services, ctx, case_id, body, None)


@router.put(
    "/cases/{case_id}/recommendations/{recommendation_id}/themes",
    response_model=TagsOut,
    responses=TAG_ERRORS,
)
async def tag_recommendation(
    case_id: uuid.UUID,
    recommendation_id: uuid.UUID,
    body: ThemesIn,
    services: ServicesDep,
    ctx: Ctx,
) -> TagsOut:
    """Set the themes of one of the case's recommendations."""
    return await _tag(services, ctx, case_id, body, ("recommendation", recommendation_id))


@router.put(
    "/cases/{case_id}/actions/{action_id}/themes", response_model=TagsOut, responses=TAG_ERRORS
)
async def tag_action(
    case_id: uuid.UUID, action_id: uuid.UUID, body: ThemesIn, services: ServicesDep, ctx: Ctx
) -> TagsOut:
    """Set the themes of one of the case's actions."""
    return await _tag(services, ctx, case_id, body, ("action", action_id))


@router.get("/search", response_model=SearchOut, responses=READ_ERRORS)
async def search(
    services: ServicesDep,
    ctx: Ctx,
    theme: Annotated[str | None, Query(max_length=64, description="A theme slug.")] = None,
    q: Annotated[
        str | None,
        Query(
            max_length=200,
            description="Text to find (case-insensitive) in the rapid review summary and "
            "learning, the decision's learning and reasons, and the recommendations.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="Most results of each kind.")] = 20,
) -> SearchOut:
    """Your cases and recommendations with the theme and/or the text, newest first."""

    def run(session: Session) -> SearchOut:
        cases, recs = learning.search(
            session, ctx, services.taxonomy, theme=theme, q=q, limit=limit
        )
        return SearchOut(
            cases=[
                CaseResult(
                    id=h.case.id,
                    partnership=h.partnership,
                    state=h.case.state,
                    stage=h.case.stage,
                    themes=h.themes,
                    snippet=h.snippet,
                )
                for h in cases
            ],
            recommendations=[
                RecommendationResult(
                    id=h.recommendation.id,
                    case_id=h.recommendation.case_id,
                    number=h.recommendation.number,
                    themes=h.themes,
                    text=h.text,
                )
                for h in recs
            ],
        )

    return await services.write(run)  # a read of personal data is audited


@router.get("/learning/themes/{theme}", response_model=ThemeSummaryOut, responses=READ_ERRORS)
async def theme_summary(theme: str, services: ServicesDep, ctx: Ctx) -> ThemeSummaryOut:
    """One theme across your cases: counts and the recommendations that recur."""

    def run(session: Session) -> ThemeSummaryOut:
        counts, groups = learning_summary.theme_summary(session, ctx, services.taxonomy, theme)
        return ThemeSummaryOut(
            as_of=ctx.today,
            counts=ThemeCountsOut.model_validate(counts),
            recurring_recommendations=[RecurringOut.model_validate(g) for g in groups],
        )

    return await services.write(run)  # a read of personal data is audited


@router.get("/learning/summary", response_model=SummaryOut, responses=responses(401, 503))
async def summary(services: ServicesDep, ctx: Ctx) -> SummaryOut:
    """Every theme of your taxonomy with its counts over your cases."""

    def run(session: Session) -> SummaryOut:
        items = learning_summary.summary(session, ctx, services.taxonomy)
        return SummaryOut(as_of=ctx.today, items=[ThemeCountsOut.model_validate(c) for c in items])

    return await services.read(run)
