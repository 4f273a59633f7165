"""Reading cases: one case, a filtered page of cases, the timeline, next actions."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from api.deps import Ctx, ServicesDep
from api.errors import responses
from api.routes.commands import action_path
from api.schemas.cases import (
    CaseListItem,
    CaseOut,
    CasePage,
    CaseSummary,
    NextActionOut,
    NextActions,
    Timeline,
    TimelineEvent,
)
from workflow import repository
from workflow.services import queries

router = APIRouter(prefix="/api/v1", tags=["cases"])
READ_ERRORS = responses(401, 404, 422, 503)


@router.get("/cases", response_model=CasePage, responses=responses(400, 401, 422, 503))
async def list_cases(
    services: ServicesDep,
    ctx: Ctx,
    state: Annotated[list[str] | None, Query(description="Filter by state (repeatable).")] = None,
    stage: Annotated[list[str] | None, Query(description="Filter by stage (repeatable).")] = None,
    rulebook: Annotated[str | None, Query(max_length=64)] = None,
    overdue: Annotated[bool, Query(description="Only cases with an overdue deadline.")] = False,
    due_within: Annotated[
        int | None,
        Query(ge=0, le=260, description="Only cases with a deadline due within N working days."),
    ] = None,
    deadline: Annotated[
        str | None,
        Query(
            max_length=64,
            description="Restrict the deadline filters to this deadline name; "
            "alone: cases where it is pending.",
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> CasePage:
    """The cases you may see, newest first, a page at a time: pass `next_cursor`
    back as `cursor`."""

    def run(session: Session) -> CasePage:
        page, next_cursor = queries.list_cases(
            session,
            ctx,
            states=state or (),
            stages=stage or (),
            rulebook_id=rulebook,
            overdue=overdue,
            due_within=due_within,
            deadline=deadline,
            limit=limit,
            cursor=cursor,
        )
        upcoming = repository.next_deadlines(session, [c.id for c in page])
        items = [
            CaseListItem(
                **CaseSummary.of(c).model_dump(),
                next_deadline=upcoming.get(c.id, (None, None))[0],
                next_due_date=upcoming.get(c.id, (None, None))[1],
            )
            for c in page
        ]
        return CasePage(items=items, next_cursor=next_cursor)

    return await services.read(run)


@router.get("/cases/{case_id}", response_model=CaseOut, responses=READ_ERRORS)
async def get_case(
    case_id: uuid.UUID, services: ServicesDep, ctx: Ctx, response: Response
) -> CaseOut:
    """The case's state, facts, stage records and version (also its ETag)."""

    def run(session: Session) -> CaseOut:
        view = queries.read_case(session, ctx, case_id)
        response.headers["ETag"] = f'"{view.case.version}"'
        return CaseOut.of_view(view)

    out = await services.read(run)
    if out.records is not None:  # personal data: audited before it is sent
        await services.write(lambda s: queries.record_read(s, ctx, case_id, "read_case"))
    return out


@router.get("/cases/{case_id}/timeline", response_model=Timeline, responses=READ_ERRORS)
async def get_timeline(case_id: uuid.UUID, services: ServicesDep, ctx: Ctx) -> Timeline:
    """Every event of the case, oldest first: when, who, what, from and to state, payload."""

    def run(session: Session) -> tuple[Timeline, bool]:
        events, personal = queries.timeline(session, ctx, case_id)
        items = [TimelineEvent.of(e, personal) for e in events]
        return Timeline(case_id=case_id, items=items), personal

    timeline, personal = await services.read(run)
    if personal:
        await services.write(lambda s: queries.record_read(s, ctx, case_id, "read_timeline"))
    return timeline


@router.get("/cases/{case_id}/next-actions", response_model=NextActions, responses=READ_ERRORS)
async def get_next_actions(case_id: uuid.UUID, services: ServicesDep, ctx: Ctx) -> NextActions:
    """What the rulebook allows now and your roles permit, with the endpoint for each."""

    def run(session: Session) -> NextActions:
        case = queries.visible_case(session, ctx.principal, case_id)
        rulebook = queries.rulebook_of(services.rulebooks, case)
        actions = [
            NextActionOut(
                action=a.trigger,
                path=action_path(case.id, a.trigger),
                leads_to=list(a.destinations),
            )
            for a in queries.next_actions(rulebook, ctx.principal, case)
        ]
        return NextActions(case_id=case.id, state=case.state, version=case.version, actions=actions)

    return await services.read(run)
