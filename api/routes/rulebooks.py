"""The rulebooks: states, transitions and deadlines, as data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Response
from fastapi.responses import PlainTextResponse

from api.deps import CurrentPrincipal, ServicesDep
from api.errors import responses
from api.schemas.rulebooks import RulebookList, RulebookOut, RulebookSummary
from workflow.core.diagram import mermaid

router = APIRouter(prefix="/api/v1", tags=["rulebooks"])


@router.get("/rulebooks", response_model=RulebookList, responses=responses(401, 503))
async def list_rulebooks(services: ServicesDep, _caller: CurrentPrincipal) -> RulebookList:
    """Every loaded rulebook version."""
    return RulebookList(
        items=[
            RulebookSummary(
                id=rb.id, version=rb.version, title=rb.title, nation=rb.nation, calendar=rb.calendar
            )
            for rb in services.rulebooks.all()
        ]
    )


@router.get(
    "/rulebooks/{rulebook_id}", response_model=RulebookOut, responses=responses(401, 404, 422, 503)
)
async def get_rulebook(
    rulebook_id: str,
    services: ServicesDep,
    response: Response,
    _caller: CurrentPrincipal,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> RulebookOut:
    """One rulebook (the latest version unless `version` is given)."""
    rb = services.rulebooks.get(rulebook_id, version)
    response.headers["Cache-Control"] = "private, max-age=300"
    return RulebookOut(
        id=rb.id,
        version=rb.version,
        title=rb.title,
        nation=rb.nation,
        calendar=rb.calendar,
        rapid_review_clock_start=rb.rapid_review_clock_start,
        states=list(rb.states),
        transitions=list(rb.transitions),
        deadlines=list(rb.deadlines),
        effective_from=rb.effective_from,
        effective_to=rb.effective_to,
        review_name=rb.review_name,
        vocabulary=services.nations.words(rb.nation, rb.review_name),
        mermaid=mermaid(rb),
    )


@router.get(
    "/rulebooks/{rulebook_id}/diagram",
    response_class=PlainTextResponse,
    responses=responses(401, 404, 422, 503),
)
async def get_diagram(
    rulebook_id: str,
    services: ServicesDep,
    _caller: CurrentPrincipal,
    version: Annotated[int | None, Query(ge=1)] = None,
) -> PlainTextResponse:
    """The rulebook's state diagram as Mermaid text (paste into any Mermaid renderer)."""
    rb = services.rulebooks.get(rulebook_id, version)
    return PlainTextResponse(mermaid(rb), headers={"Cache-Control": "private, max-age=300"})
