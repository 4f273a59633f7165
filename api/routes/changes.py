"""The change feed: poll `GET /changes?after=<cursor>` (or hold `/changes/stream` open)
to learn which of your cases changed, then fetch only those."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.deps import CurrentPrincipal, Services, ServicesDep
from api.errors import responses
from workflow.access.principal import Principal
from workflow.reads import changes

router = APIRouter(prefix="/api/v1", tags=["changes"])
REVALIDATE = "private, no-cache"  # no personal data: clients may keep it, but must revalidate
STREAM_POLL_S = 1.0
STREAM_KEEPALIVE_S = 15.0
STREAM_PAGE = 100
After = Annotated[
    str | None,
    Query(
        max_length=200,
        description='The `next_cursor` (or an item\'s `cursor`) you last saw; "latest" to '
        "start from now; none to start from the beginning.",
    ),
]


class ChangeOut(BaseModel):
    cursor: str = Field(description="Resume after this change with `after=<cursor>`.")
    case_id: uuid.UUID
    event_type: str
    from_state: str | None
    to_state: str
    version: int = Field(description="The case version this change produced.")
    occurred_at: datetime

    @classmethod
    def of(cls, change: changes.Change) -> ChangeOut:
        return cls(
            cursor=change.cursor,
            case_id=change.case_id,
            event_type=change.event_type,
            from_state=change.from_state,
            to_state=change.to_state,
            version=change.version,
            occurred_at=change.occurred_at,
        )


class ChangesOut(BaseModel):
    items: list[ChangeOut]
    next_cursor: str = Field(description="Pass back as `after`; unchanged when nothing is new.")
    has_more: bool = Field(description="More changes are ready: fetch again without waiting.")


@router.get("/changes", response_model=ChangesOut, responses=responses(400, 401, 422, 503))
async def list_changes(
    services: ServicesDep,
    principal: CurrentPrincipal,
    response: Response,
    after: After = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ChangesOut:
    """What changed in the cases you may list since `after`, oldest first (timeline
    events without their payloads). Loop: fetch with `after=next_cursor`; while
    `has_more`, fetch again at once; otherwise wait and poll again."""
    page = await services.read(lambda s: changes.changes(s, principal, after, limit))
    response.headers["Cache-Control"] = REVALIDATE
    return ChangesOut(
        items=[ChangeOut.of(c) for c in page.items],
        next_cursor=page.next_cursor,
        has_more=page.has_more,
    )


@router.get(
    "/changes/stream",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"text/event-stream": {}}, "description": "Server-sent events."},
        **responses(400, 401, 422, 503),
    },
)
async def stream_changes(
    request: Request,
    services: ServicesDep,
    principal: CurrentPrincipal,
    after: After = None,
    last_event_id: Annotated[
        str | None,
        Header(max_length=200, description="Sent by EventSource on reconnection; wins over after."),
    ] = None,
    max_seconds: Annotated[
        int,
        Query(
            ge=1,
            le=600,
            description="The stream ends after this (your roles are checked again when you "
            "reconnect); resume with Last-Event-ID.",
        ),
    ] = 60,
) -> StreamingResponse:
    """The same changes as server-sent events (`id` = cursor, `event: change`, `data` =
    the item), checked every second. It ends after `max_seconds` (an EventSource then
    reconnects with `Last-Event-ID`) or when the client goes away."""
    cursor = last_event_id or after
    first = await services.read(lambda s: changes.changes(s, principal, cursor, STREAM_PAGE))
    return StreamingResponse(
        _events(request, services, principal, first, max_seconds),
        media_type="text/event-stream",
        headers={"Cache-Control": REVALIDATE, "X-Accel-Buffering": "no"},
    )


async def _events(
    request: Request,
    services: Services,
    principal: Principal,
    page: changes.ChangePage,
    max_seconds: int,
) -> AsyncIterator[str]:
    """Bounded: at most `max_seconds`, one database read per second when idle."""
    ends = time.monotonic() + max_seconds
    quiet_since = time.monotonic()
    yield f"retry: {int(STREAM_POLL_S * 1000)}\n\n"
    while True:
        for item in page.items:
            data = json.dumps(ChangeOut.of(item).model_dump(mode="json"))
            yield f"id: {item.cursor}\nevent: change\ndata: {data}\n\n"
        if page.items:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since >= STREAM_KEEPALIVE_S:
            quiet_since = time.monotonic()
            yield ": keep-alive\n\n"
        if time.monotonic() >= ends or await request.is_disconnected():
            return
        if not page.has_more:
            await asyncio.sleep(STREAM_POLL_S)
        page = await services.read(_next_page(principal, page.next_cursor))


def _next_page(principal: Principal, cursor: str) -> Callable[[Session], changes.ChangePage]:
    return lambda session: changes.changes(session, principal, cursor, STREAM_PAGE)
