"""The cases page: search, filters, order and pages (workflow/reads/case_pages.py
reads them; the filters and their checks are `GET /cases`'s). A GET form: the filters
live in the address, so a link shares them. Bad input is said on the page (400), with
the form kept, never a server error. No personal data: case summaries only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from api.deps import ServicesDep
from api.web.session import PageCtx, render, router
from workflow.context import Context
from workflow.core.errors import InvalidCursor, InvalidFacts
from workflow.reads.case_pages import SORTS, CasePage, page_of_cases, partnerships_of
from workflow.reads.learning import themes_of
from workflow.reads.queries import CaseListRequest, may_search_text

PAGE_SIZE = 50
MAX_DUE_WITHIN = 260
Text = Annotated[str, Query(max_length=200)]


@dataclass(frozen=True)
class Filters:
    """The form as sent (strings), and the request it makes."""

    reference: str = ""
    q: str = ""
    stage: str = ""
    state: str = ""
    rulebook: str = ""
    theme: str = ""
    overdue: str = ""
    due_within: str = ""
    partnership: str = ""
    sort: str = "newest"

    def items(self) -> list[tuple[str, str]]:
        """The filters set, for links (defaults left out)."""
        return [(k, v) for k, v in vars(self).items() if v and not (k == "sort" and v == "newest")]

    def request(self) -> CaseListRequest:
        due_within = None
        if self.due_within.strip():
            if not self.due_within.strip().isdigit() or int(self.due_within) > MAX_DUE_WITHIN:
                raise InvalidFacts(
                    f"enter a whole number of working days from 0 to {MAX_DUE_WITHIN}",
                    "due_within",
                )
            due_within = int(self.due_within)
        return CaseListRequest(
            states=[self.state] if self.state else [],
            stages=[self.stage] if self.stage else [],
            rulebook=self.rulebook or None,
            partnership=self.partnership or None,
            theme=self.theme or None,
            overdue=bool(self.overdue),
            due_within=due_within,
            sort=self.sort,
            reference=self.reference or None,
            text=self.q or None,
        )


def _options(session: Session, ctx: Context, services: ServicesDep) -> dict[str, Any]:
    books = ctx.rulebooks.all()
    themes = themes_of(services.taxonomy, ctx.principal)
    states = dict.fromkeys(s.name for rb in books for s in rb.states)
    stages = dict.fromkeys(s.stage for rb in books for s in rb.states)
    return {
        "stages": list(stages),
        "states": list(states),
        "rulebooks": [(rb.id, rb.title) for rb in books],
        "themes": sorted((t.slug, t.label) for t in themes.values()),
        "partnerships": partnerships_of(session, ctx.principal),
        "sorts": SORTS,
    }


def _link(filters: Filters, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    return "/cases?" + urlencode([*filters.items(), ("cursor", cursor)])


@router.get("/cases", response_class=HTMLResponse)
async def case_list(
    request: Request,
    services: ServicesDep,
    ctx: PageCtx,
    reference: Annotated[str, Query(max_length=64)] = "",
    q: Text = "",
    stage: Annotated[str, Query(max_length=64)] = "",
    state: Annotated[str, Query(max_length=64)] = "",
    rulebook: Annotated[str, Query(max_length=64)] = "",
    theme: Annotated[str, Query(max_length=64)] = "",
    overdue: Annotated[str, Query(max_length=5)] = "",
    due_within: Annotated[str, Query(max_length=5)] = "",
    partnership: Annotated[str, Query(max_length=64)] = "",
    sort: Annotated[str, Query(max_length=16)] = "newest",
    cursor: Annotated[str | None, Query(max_length=400)] = None,
) -> HTMLResponse:
    filters = Filters(
        reference.strip(),
        q.strip(),
        stage,
        state,
        rulebook,
        theme,
        overdue,
        due_within.strip(),
        partnership,
        sort,
    )

    def run(s: Session) -> tuple[CasePage | None, InvalidFacts | InvalidCursor | None, Any]:
        options = _options(s, ctx, services)
        try:
            return (
                page_of_cases(s, ctx, filters.request(), limit=PAGE_SIZE, cursor=cursor),
                None,
                options,
            )
        except (InvalidFacts, InvalidCursor) as refused:
            return None, refused, options

    page, error, options = await services.read(run)
    context = {
        "principal": ctx.principal,
        "nav": "cases",
        "filters": filters,
        "page": page,
        "error": error,
        "text_search": may_search_text(ctx.principal),
        "next_link": _link(filters, page.next_cursor) if page else None,
        "previous_link": _link(filters, page.previous_cursor) if page else None,
        "filtered": bool(filters.items()),
        **options,
    }
    return render(request, "cases.html", context, 200 if error is None else 400)
