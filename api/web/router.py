"""The web dashboard: server-rendered pages over the same services as the API.

Pages read through `workflow.reads.queries` / `action_queries` and the API's
response models, so visibility (404 for a case you may not see), personal-data
redaction and the audit of personal reads are exactly the API's. The only
script polls `status.json` and swaps in `fragment` when the case changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.orm import Session

from api.deps import ServicesDep
from api.schemas.actions import ActionPlanOut
from api.schemas.cases import CaseOut, TimelineEvent
from api.schemas.deadlines import DeadlineOut
from api.web.session import JsonCtx, PageCtx, render, router
from workflow.context import Context
from workflow.core.diagram import mermaid
from workflow.core.errors import CaseNotFound, UnknownRulebook
from workflow.core.rulebook import START, Rulebook
from workflow.reads import action_queries, queries

__all__ = ["missing_assets", "router", "static_files"]
STATIC_DIR = Path(__file__).parent / "static"
# Copied from the pinned npm package by `make install` (Makefile: ASSETS); not in git.
GOVUK_ASSETS = ("govuk/govuk-frontend.min.css", "govuk/govuk-frontend.min.js")


def static_files() -> StaticFiles:
    return StaticFiles(directory=STATIC_DIR)


def missing_assets() -> str | None:
    """Why the pages would render unstyled, or None when GOV.UK Frontend's files are present."""
    missing = [name for name in GOVUK_ASSETS if not (STATIC_DIR / name).is_file()]
    if not missing:
        return None
    return (
        f"web assets missing from {STATIC_DIR}: {', '.join(missing)}; "
        "run `make install` (it installs GOV.UK Frontend from package.json with npm)"
    )


# The home page (What needs attention) is api/web/attention.py; the cases page,
# api/web/case_list.py.


# --- one case ---


def _case_order(d: DeadlineOut) -> tuple[int, date]:
    """Overdue first, then pending by due date, then the rest (met, paused, ...)."""
    return ({"overdue": 0, "pending": 1}.get(d.state, 2), d.due_date or date.max)


def _case_page(session: Session, ctx: Context, case_id: uuid.UUID) -> dict[str, Any]:
    view = queries.read_case(session, ctx, case_id)
    events, personal = queries.timeline(session, ctx, case_id)
    rulebook = queries.rulebook_of(ctx.rulebooks, view.case)
    out = CaseOut.of_view(view)
    plan = action_queries.plan_of(session, ctx, case_id)
    return {
        "case": out,
        "state": rulebook.state(out.state),
        "deadlines": sorted(out.deadlines, key=_case_order),
        "timeline": [TimelineEvent.of(e, personal) for e in reversed(events)],
        "plan": ActionPlanOut.of(plan),
        "personal": view.personal,
        "personal_plan": bool(plan.personal_cases),
    }


async def _read_case(services: ServicesDep, ctx: Context, case_id: uuid.UUID) -> dict[str, Any]:
    page = await services.read(lambda s: _case_page(s, ctx, case_id))
    reads = ["read_case", "read_timeline"] if page["personal"] else []
    reads += ["read_action_plan"] if page["personal_plan"] else []
    if reads:  # personal data: audited before it is sent, as the API audits each read

        def audit(s: Session) -> None:
            for action in reads:
                queries.record_read(s, ctx, case_id, action)

        await services.write(audit)
    return page


def _not_found(request: Request, ctx: Context, what: str) -> HTMLResponse:
    context = {"principal": ctx.principal, "what": what}
    return render(request, "not_found.html", context, 404)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(
    case_id: uuid.UUID, request: Request, services: ServicesDep, ctx: PageCtx
) -> HTMLResponse:
    try:
        page = await _read_case(services, ctx, case_id)
    except CaseNotFound:
        return _not_found(request, ctx, "case")
    return render(request, "case.html", {"principal": ctx.principal, "nav": "cases", **page})


@router.get("/cases/{case_id}/fragment", response_class=HTMLResponse)
async def case_fragment(
    case_id: uuid.UUID, request: Request, services: ServicesDep, ctx: JsonCtx
) -> HTMLResponse:
    """The live part of the case page (state, deadlines, timeline, plan), for the script."""
    page = await _read_case(services, ctx, case_id)  # CaseNotFound: 404 problem+json
    return render(request, "_case_live.html", page)


def _etags(header: str | None) -> set[str]:
    return {t.strip().removeprefix("W/") for t in (header or "").split(",") if t.strip()}


@router.get("/cases/{case_id}/status.json")
async def case_status(
    case_id: uuid.UUID, request: Request, services: ServicesDep, ctx: JsonCtx
) -> Response:
    """{version, state} of a case; 304 while `If-None-Match` names its current version."""

    def run(s: Session) -> tuple[int, str]:
        case = queries.visible_case(s, ctx.principal, case_id)
        return case.version, case.state

    version, state = await services.read(run)
    etag = f'"{version}"'
    if etag in _etags(request.headers.get("if-none-match")):
        return Response(status_code=304, headers={"ETag": etag})
    return JSONResponse({"version": version, "state": state}, headers={"ETag": etag})


# --- rulebooks ---


@router.get("/rulebooks", response_class=HTMLResponse)
async def rulebook_list(request: Request, services: ServicesDep, ctx: PageCtx) -> HTMLResponse:
    context = {
        "principal": ctx.principal,
        "nav": "rulebooks",
        "rulebooks": services.rulebooks.all(),
    }
    return render(request, "rulebooks.html", context)


def transitions(rb: Rulebook) -> list[tuple[str, str, str, Sequence[str]]]:
    """(from, trigger, to, guards): one row per arrow of the Mermaid diagram."""
    rows = [
        (source, t.trigger, t.dest or source, t.guards)
        for t in rb.transitions
        for source in t.source
    ]
    return [(s if s != START else "(new case)", trig, d, g) for s, trig, d, g in rows]


@router.get("/rulebooks/{rulebook_id}", response_class=HTMLResponse)
async def rulebook_page(
    rulebook_id: str,
    request: Request,
    services: ServicesDep,
    ctx: PageCtx,
    version: int | None = None,
) -> HTMLResponse:
    try:
        rb = services.rulebooks.get(rulebook_id, version)
    except UnknownRulebook:
        return _not_found(request, ctx, "rulebook")
    context = {
        "principal": ctx.principal,
        "nav": "rulebooks",
        "rb": rb,
        "words": services.nations.words(rb.nation, rb.review_name),
        "transitions": transitions(rb),
        "mermaid": mermaid(rb),
    }
    return render(request, "rulebook.html", context)
