"""Reading cases: one case, a filtered page of cases, the timeline, next actions.

Every GET carries a strong ETag derived from the case's version (workflow/reads/
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
from workflow.core.errors import InvalidFacts
from workflow.reads import etags, queries
from workflow.reads.queries import CaseView

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
        upcoming = queries.next_deadlines(session, [c.id for c in page])
        items = [
            CaseListItem(
                **dict(CaseSummary.of(c)),  # fields as they are: no dump and re-validation
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
    # serialised once, here: returning the model would have FastAPI validate every item
    # against `response_model` again before serialising it (response_model stays for
    # OpenAPI; a returned Response is sent unchanged)
    return Response(
        page.model_dump_json(by_alias=True), media_type="application/json", headers=headers
    )


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
    if_none_match: IfNoneMatch = None,
) -> Response:
    """The case's state, facts, stage records and version. ETag:
    `"<version>.<today YYYYMMDD>.<p|s>"` (personal or summary representation);
    `If-Match` takes it, or the bare version."""

    # One Core query (on SQLite without a thread hop): answers If-None-Match, and
    # keys the cache of rendered summaries (api/summary_cache.py).
    stamp = await services.stamp(ctx.principal, case_id)
    tag = etags.case_tag(stamp.version, ctx.today, stamp.personal)
    cache_control = NO_STORE if stamp.personal else REVALIDATE
    if etags.matches(if_none_match, tag):  # no personal data sent: no read to audit
        return not_modified(tag, cache_control)
    key = (case_id, stamp.version, ctx.today, stamp.roles)
    body = None if stamp.personal else services.summaries.get(key)
    if body is None:

        def run(session: Session) -> tuple[CaseView, bytes]:
            view = queries.read_case(session, ctx, case_id)
            return view, CaseOut.of_view(view).model_dump_json(by_alias=True).encode()

        view, rendered = await services.read(run)
        tag = etags.case_tag(view.case.version, ctx.today, view.personal)
        cache_control = NO_STORE if view.personal else REVALIDATE
        if view.personal:  # personal data: audited before it is sent
            await services.write(lambda s: queries.record_read(s, ctx, case_id, "read_case"))
        else:  # keyed by the version read (the case may have moved since the stamp)
            roles = etags.stamp_of(ctx.principal, case_id, view.case.partnership_id, 0).roles
            services.summaries.put((case_id, view.case.version, ctx.today, roles), rendered)
        body = rendered
    # Serialised once here: returning the model would make FastAPI validate it again.
    return Response(
        body, media_type="application/json", headers={"ETag": tag, "Cache-Control": cache_control}
    )


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

    if if_none_match is not None:
        stamp = await services.stamp(ctx.principal, case_id)
        tag = etags.timeline_tag(stamp.version, stamp.personal)
        if etags.matches(if_none_match, tag):  # no personal data sent: no read to audit
            return not_modified(tag, NO_STORE)

    def run(session: Session) -> tuple[str, Timeline, bool]:
        events, personal = queries.timeline(session, ctx, case_id)
        version = events[-1].sequence if events else 0  # each version has its event
        items = [TimelineEvent.of(e, personal) for e in events]
        timeline = Timeline(case_id=case_id, items=items)
        return etags.timeline_tag(version, personal), timeline, personal

    tag, timeline, personal = await services.read(run)
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

    if if_none_match is not None:
        stamp = await services.stamp(ctx.principal, case_id)
        tag = etags.next_actions_tag(stamp.version, stamp.roles)
        if etags.matches(if_none_match, tag):
            return not_modified(tag, NO_STORE)

    def run(session: Session) -> tuple[str, NextActions]:
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
    response.headers["ETag"] = tag
    return out
