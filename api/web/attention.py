"""The home page: what needs attention today (workflow/reads/attention.py computes
the rows and their reasons; this renders them). An action's description is shown only
where the domain's redaction allowed it, and that read is audited ("read_actions", as
`GET /actions` is) before the page is sent."""

from __future__ import annotations

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.deps import ServicesDep
from api.web.session import PageCtx, render, router
from workflow.reads import queries
from workflow.reads.attention import needs_attention


@router.get("/", response_class=HTMLResponse)
async def home(request: Request, services: ServicesDep, ctx: PageCtx) -> HTMLResponse:
    found = await services.read(lambda s: needs_attention(s, ctx, services.attention))
    if found.personal_cases:

        def audit(s: Session) -> None:
            queries.record_reads(s, ctx, found.personal_cases, "read_actions")

        await services.write(audit)
    context = {"principal": ctx.principal, "nav": "home", "found": found}
    return render(request, "home.html", context)
