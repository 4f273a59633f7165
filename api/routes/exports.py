"""Data out: CSV exports of your partnerships' cases, deadlines and actions, and the
calendar (.ics) feed of a partnership's deadlines behind a revocable feed token."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.orm import Session

from api.deps import Ctx, Now, ServicesDep, client_host
from api.errors import responses
from api.schemas.dashboard import FeedCreatedOut, FeedIn, FeedList, FeedOut
from workflow.reads import exports, feeds

router = APIRouter(prefix="/api/v1", tags=["exports"])
CSV_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV, header row first"},
    **responses(401, 403, 503),
}
FEED_PATH = "/api/v1/feeds/{token}.ics"
REDACTED_FEED_PATH = "/api/v1/feeds/(token).ics"


async def _csv(services: ServicesDep, ctx: Ctx, kind: str) -> StreamingResponse:
    """Checked and audited before the first byte; then streamed a page at a time."""
    await services.write(lambda s: exports.start(s, ctx, kind))
    name = f"{kind}-{ctx.today.isoformat()}.csv"
    return StreamingResponse(
        exports.stream(services.database.read, ctx, kind),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/exports/cases.csv", response_class=StreamingResponse, responses=CSV_RESPONSES)
async def export_cases(services: ServicesDep, ctx: Ctx) -> StreamingResponse:
    """Your partnerships' cases: reference, rulebook, state, stage and dates; the close
    reason only where you may read personal data. No children and no narrative."""
    return await _csv(services, ctx, "cases")


@router.get("/exports/deadlines.csv", response_class=StreamingResponse, responses=CSV_RESPONSES)
async def export_deadlines(services: ServicesDep, ctx: Ctx) -> StreamingResponse:
    """Every deadline that applies to your partnerships' cases, with its state
    (`overdue`: pending and due before today)."""
    return await _csv(services, ctx, "deadlines")


@router.get("/exports/actions.csv", response_class=StreamingResponse, responses=CSV_RESPONSES)
async def export_actions(services: ServicesDep, ctx: Ctx) -> StreamingResponse:
    """Your partnerships' actions, earliest due first; description, owner and reasons
    only where you may read personal data."""
    return await _csv(services, ctx, "actions")


@router.post(
    "/feeds",
    status_code=201,
    response_model=FeedCreatedOut,
    responses=responses(401, 403, 413, 422, 503),
)
async def create_feed(body: FeedIn, services: ServicesDep, ctx: Ctx) -> FeedCreatedOut:
    """A calendar feed of one partnership's deadlines (where you may list its cases).
    The token is shown once; it grants that feed only. Not replayable with
    Idempotency-Key: the token is never stored."""

    def run(session: Session) -> FeedCreatedOut:
        issued = feeds.create_feed(session, ctx, body.partnership, body.label)
        out = FeedOut.of(issued.feed, issued.partnership)
        url = FEED_PATH.format(token=issued.secret)
        return FeedCreatedOut(**out.model_dump(), token=issued.secret, url=url)

    return await services.write(run)


@router.get("/feeds", response_model=FeedList, responses=responses(401, 503))
async def list_feeds(services: ServicesDep, ctx: Ctx) -> FeedList:
    """Your calendar feeds, revoked ones included (never their tokens)."""

    def run(session: Session) -> FeedList:
        return FeedList(items=[FeedOut.of(f, code) for f, code in feeds.list_feeds(session, ctx)])

    return await services.read(run)


@router.post(
    "/feeds/{feed_id}/revocation", response_model=FeedOut, responses=responses(401, 404, 503)
)
async def revoke_feed(feed_id: uuid.UUID, services: ServicesDep, ctx: Ctx) -> FeedOut:
    """Revoke one of your feeds: its URL answers 404 from now on. Revoking again
    changes nothing."""

    def run(session: Session) -> FeedOut:
        return FeedOut.of(*feeds.revoke_feed(session, ctx, feed_id))

    return await services.write(run)


@router.get(
    FEED_PATH.removeprefix("/api/v1"),
    response_class=Response,
    responses={
        200: {"content": {"text/calendar": {}}, "description": "iCalendar (RFC 5545)"},
        **responses(404, 429, 503),
    },
)
async def get_feed(token: str, request: Request, services: ServicesDep, now: Now) -> Response:
    """The iCalendar feed: one all-day event per pending deadline due within 12 months
    (overdue ones until met). No Authorization header: the token in the URL is the
    credential. Unknown, revoked or no longer authorised: 404, counted as a failed
    authentication of the address (429 past the limit: docs/operations.md)."""
    # The token must not reach the access log or an error's `instance`.
    request.scope["path"] = REDACTED_FEED_PATH

    def run(session: Session) -> bytes:
        feed = feeds.feed_for_token(session, services.rulebooks, token, now)
        return feeds.render_ics(feed, now)

    try:
        body = await services.read(run)
    except feeds.FeedNotFound:
        services.limits.failed_authentication(client_host(request), now)
        raise
    return Response(
        body,
        media_type="text/calendar; charset=utf-8",
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )
