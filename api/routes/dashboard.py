"""Summary figures: the dashboard and the annual report (JSON and CSV).

Both read one snapshot of the database and carry no personal data."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from api.deps import Ctx, ServicesDep
from api.errors import responses
from api.routes.cases import NOT_MODIFIED, REVALIDATE, IfNoneMatch, not_modified
from api.schemas.dashboard import AnnualReportOut, DashboardOut
from api.schemas.params import IsoDate
from workflow.reads import dashboard, etags, reports
from workflow.reads.dashboard_cache import TagCache
from workflow.reads.exports import csv_text

router = APIRouter(prefix="/api/v1", tags=["dashboard"])
# dashboards rendered in this process (the JSON bytes), by database and tag: as fresh
# as a 304, and a cached one costs the tag's query and no serialisation
RENDERED: TagCache[bytes] = TagCache()
ERRORS = responses(401, 403, 422, 503)
Partnership = Annotated[
    str | None,
    Query(
        max_length=64,
        description="One partnership's code; default: every partnership you may see "
        "(the national role: all of them).",
    ),
]
Year = Annotated[int, Query(ge=1990, le=2100, description="A calendar year (1 Jan - 31 Dec).")]


@router.get("/dashboard", response_model=DashboardOut, responses={**NOT_MODIFIED, **ERRORS})
async def get_dashboard(
    services: ServicesDep,
    ctx: Ctx,
    if_none_match: IfNoneMatch = None,
    partnership: Partnership = None,
    from_: Annotated[
        IsoDate | None,
        Query(alias="from", description="Timeliness period start; default 12 months ago."),
    ] = None,
    to: Annotated[
        IsoDate | None, Query(description="Timeliness period end; default today.")
    ] = None,
) -> Response:
    """Cases by stage, overdue deadlines, deadlines due in the next 5 working days, open
    and overdue actions by agency, and timeliness over a period."""

    query = [
        ("view", "dashboard"),
        ("partnership", str(partnership)),
        ("from", str(from_)),
        ("to", str(to)),
    ]

    def run(session: Session) -> tuple[str, bytes | None]:
        # Every figure derives from the visible cases (an action change bumps its case's
        # version), today's date and the parameters: the list's change counter covers it.
        tag = etags.list_tag(session, ctx.principal, query, ctx.today)
        if etags.matches(if_none_match, tag, star=False):
            return tag, None
        key = f"{session.get_bind().engine.url}|{tag}"
        cached = RENDERED.get(key)
        if cached is not None:
            return tag, cached
        figures = dashboard.dashboard(session, ctx, partnership=partnership, start=from_, end=to)
        out = DashboardOut.of(figures, dashboard.DUE_SOON_WORKING_DAYS)
        body = out.model_dump_json(by_alias=True).encode()
        RENDERED.put(key, body)
        return tag, body

    found: tuple[str, bytes | None] = await services.call(services.database.read_snapshot, run)
    tag, body = found
    if body is None:
        return not_modified(tag, REVALIDATE)
    # Serialised once, when computed: returning the model would have FastAPI validate
    # and serialise it again on every poll (up to 200 due-soon items).
    return Response(
        body, media_type="application/json", headers={"ETag": tag, "Cache-Control": REVALIDATE}
    )


@router.get("/reports/annual", response_model=AnnualReportOut, responses=ERRORS)
async def annual_report(
    services: ServicesDep, ctx: Ctx, year: Year, partnership: Partnership = None
) -> AnnualReportOut:
    """The figures of the annual report for a calendar year."""

    def run(session: Session) -> AnnualReportOut:
        return AnnualReportOut.of(reports.annual_report(session, ctx, year, partnership))

    return await services.call(services.database.read_snapshot, run)


@router.get(
    "/reports/annual.csv",
    response_class=Response,
    responses={
        200: {"content": {"text/csv": {}}, "description": "figure, item, value rows"},
        **ERRORS,
    },
)
async def annual_report_csv(
    services: ServicesDep, ctx: Ctx, year: Year, partnership: Partnership = None
) -> Response:
    """The annual report's figures as CSV: one (figure, item, value) row each."""

    def run(session: Session) -> str:
        report = reports.annual_report(session, ctx, year, partnership)
        return csv_text([["figure", "item", "value"], *reports.csv_rows(report)])

    text = await services.call(services.database.read_snapshot, run)
    suffix = re.sub(r"[^A-Za-z0-9_-]", "_", f"-{partnership}") if partnership else ""
    name = f"annual-report-{year}{suffix}.csv"
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )
