"""Reading cases: one case, a filtered page of cases, the timeline, next actions.

Every GET carries a strong ETag derived from the case's version (workflow/services/
etags.py); a matching `If-None-Match` is answered `304 Not Modified` after one narrow
query, without loading or rendering the body, and only for a case the caller may
see (404 otherwise, as always). Reads of personal data are audited when the body is
sent; a 304 sends none, so it writes no audit record."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from api.deps import Ctx, ServicesDep
from api.errors import responses
from api.routes.commands import action_path
from api.schemas.case_list import CaseListParams
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
from workflow.errors import InvalidFacts
from workflow.services import etags, queries

router = APIRouter(prefix="/api/v1", tags=["cases"])
NOT_MODIFIED: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not Modified: your `If-None-Match` is the current ETag."}
}
READ_ERRORS = {**NOT_MODIFIED, **responses(401, 404, 422, 503)}
NO_STORE = "no-store"  # personal data
REVALIDATE = "private, no-cache"  # no personal data: clients keep it and revalidate
IfNoneMatch = Annotated[
    str | None,
    Header(description="An ETag you hold: answered 304 Not Modified while it is current."),
]


def not_modified(tag: str, cache_control: str) -> Response:
    return Response(status_code=304, headers={"ETag": tag, "Cache-Control": cache_control})


@router.get(
    "/cases", response_model=CasePage, responses={**NOT_MODIFIED, **responses(400, 401, 422, 503)}
)
async def list_cases(
    services: ServicesDep,
    ctx: Ctx,
    response: Response,
    params: Annotated[CaseListParams, Query()],
    if_none_match: IfNoneMatch = None,
) -> CasePage | Response:
    """The cases you may see, newest first (or `sort=oldest`), a page at a time: pass
    `next_cursor` back as `cursor`. The ETag changes whenever any case you may see
    changes. `fields` makes the items sparse."""
    wanted = _fields(params.fields)

    def run(session: Session) -> tuple[str, CasePage | None]:
        tag = etags.list_tag(session, ctx.principal, params.tag_parts(), ctx.today)
        if etags.matches(if_none_match, tag, star=False):  # `*`: validate the query first
            return tag, None
        page, next_cursor = queries.list_cases(
            session, ctx, params.request(), limit=params.limit, cursor=params.cursor
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
        return tag, CasePage(items=items, next_cursor=next_cursor)

    tag, page = await services.read(run)
    if page is None:
        return not_modified(tag, REVALIDATE)
    headers = {"ETag": tag, "Cache-Control": REVALIDATE}
    if wanted:
        body = {
            "items": [i.model_dump(mode="json", include=wanted) for i in page.items],
            "next_cursor": page.next_cursor,
        }
        return JSONResponse(body, headers=headers)
    response.headers.update(headers)
    return page


def _fields(raw: str | None) -> set[str] | None:
    if not raw:
        return None
    wanted = {f.strip() for f in raw.split(",") if f.strip()} | {"id"}
    unknown = sorted(wanted - set(CaseListItem.model_fields))
    if unknown:
        raise InvalidFacts(
            f"unknown field {', '.join(unknown)}; one of: "
            f"{', '.join(sorted(CaseListItem.model_fields))}",
            "fields",
        )
    return wanted


@router.get("/cases/{case_id}", response_model=CaseOut, responses=READ_ERRORS)
async def get_case(
    case_id: uuid.UUID,
    services: ServicesDep,
    ctx: Ctx,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> CaseOut | Response:
    """The case's state, facts, stage records and version. ETag:
    `"<version>.<today YYYYMMDD>.<p|s>"` (personal or summary representation);
    `If-Match` takes it, or the bare version."""

    def run(session: Session) -> tuple[str, bool, CaseOut | None]:
        if if_none_match is not None:
            stamp = etags.case_stamp(session, ctx.principal, case_id)  # 404 unless visible
            tag = etags.case_tag(stamp.version, ctx.today, stamp.personal)
            if etags.matches(if_none_match, tag):
                return tag, stamp.personal, None
        view = queries.read_case(session, ctx, case_id)
        tag = etags.case_tag(view.case.version, ctx.today, view.personal)
        return tag, view.personal, CaseOut.of_view(view)

    tag, personal, out = await services.read(run)
    cache_control = NO_STORE if personal else REVALIDATE
    if out is None:  # no personal data sent, so no read to audit
        return not_modified(tag, cache_control)
    if personal:  # personal data: audited before it is sent
        await services.write(lambda s: queries.record_read(s, ctx, case_id, "read_case"))
    response.headers["ETag"] = tag
    response.headers["Cache-Control"] = cache_control
    return out


@router.get("/cases/{case_id}/timeline", response_model=Timeline, responses=READ_ERRORS)
async def get_timeline(
    case_id: uuid.UUID,
    services: ServicesDep,
    ctx: Ctx,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> Timeline | Response:
    """Every event of the case, oldest first: when, who, what, from and to state, payload.
    ETag: `"<version>.<p|s>"`."""

    def run(session: Session) -> tuple[str, Timeline | None, bool]:
        if if_none_match is not None:
            stamp = etags.case_stamp(session, ctx.principal, case_id)  # 404 unless visible
            tag = etags.timeline_tag(stamp.version, stamp.personal)
            if etags.matches(if_none_match, tag):
                return tag, None, stamp.personal
        events, personal = queries.timeline(session, ctx, case_id)
        version = events[-1].sequence if events else 0  # each version has its event
        items = [TimelineEvent.of(e, personal) for e in events]
        timeline = Timeline(case_id=case_id, items=items)
        return etags.timeline_tag(version, personal), timeline, personal

    tag, timeline, personal = await services.read(run)
    if timeline is None:  # no personal data sent, so no read to audit
        return not_modified(tag, NO_STORE)
    if personal:
        await services.write(lambda s: queries.record_read(s, ctx, case_id, "read_timeline"))
    response.headers["ETag"] = tag
    return timeline


@router.get("/cases/{case_id}/next-actions", response_model=NextActions, responses=READ_ERRORS)
async def get_next_actions(
    case_id: uuid.UUID,
    services: ServicesDep,
    ctx: Ctx,
    response: Response,
    if_none_match: IfNoneMatch = None,
) -> NextActions | Response:
    """What the rulebook allows now and your roles permit, with the endpoint for each.
    ETag: `"<version>.r<hash of your roles on the case>"`."""

    def run(session: Session) -> tuple[str, NextActions | None]:
        if if_none_match is not None:
            stamp = etags.case_stamp(session, ctx.principal, case_id)  # 404 unless visible
            tag = etags.next_actions_tag(stamp.version, stamp.roles)
            if etags.matches(if_none_match, tag):
                return tag, None
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
        stamp = etags.stamp_of(ctx.principal, case.id, case.partnership_id, case.version)
        return etags.next_actions_tag(case.version, stamp.roles), NextActions(
            case_id=case.id, state=case.state, version=case.version, actions=actions
        )

    tag, out = await services.read(run)
    if out is None:
        return not_modified(tag, NO_STORE)
    response.headers["ETag"] = tag
    return out
