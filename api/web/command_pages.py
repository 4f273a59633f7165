"""One form per command of the registry: GET/POST /cases/{case_id}/do/{path}, where
`path` is the command's own path segment (workflow/commands/registry.py). The form's
fields are derived from the command's model (api/web/fields.py); the POST validates
with the same model and runs the same engine call through the same gateway as the
API's route (api/routes/commands.py), so a form has no rules of its own.

A form is offered only to whom may do the action now (the rulebook's next triggers
from the case's state, and the permission table): a case the caller cannot see is
404, an action their roles do not allow is refused (403), an action the case's state
does not allow now is 409. The form carries the case version it was opened at and
an idempotency key; a stale version shows what changed, with the answers kept.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from api.deps import ServicesDep
from api.gateway import Outcome, Work, case_outcome
from api.routes.commands import action_path
from api.schemas.cases import CaseSummary
from api.web import fields, form_flow, posting
from api.web.session import PageCtx, render, router, templates
from workflow.access.permissions import command as command_perm
from workflow.access.permissions import refusal
from workflow.cases.engine import execute_command
from workflow.commands.base import Command
from workflow.commands.registry import CASE_COMMANDS, PATH_OF_TRIGGER
from workflow.context import Context
from workflow.core.errors import (
    CaseNotFound,
)
from workflow.core.words import row_label, word
from workflow.reads import queries

BY_PATH: dict[str, type[Command]] = {c.path: c for c in CASE_COMMANDS}


@dataclass(frozen=True)
class Standing:
    """A case as a form sees it: what it is called, its version, and whether the
    caller may do the action (`may`) and may do it now (`now`)."""

    case: CaseSummary
    version: int
    state: str
    may: bool
    now: bool


def standing(session: Session, ctx: Context, case_id: uuid.UUID, trigger: str) -> Standing:
    case = queries.visible_case(session, ctx.principal, case_id)  # CaseNotFound
    rulebook = queries.rulebook_of(ctx.rulebooks, case)
    may = ctx.principal.may(command_perm(trigger), case.partnership_id, case.id)
    now = any(a.trigger == trigger for a in queries.next_actions(rulebook, ctx.principal, case))
    return Standing(CaseSummary.of(case), case.version, case.state, may, now)


def _not_found(request: Request, ctx: Context) -> HTMLResponse:
    return render(request, "not_found.html", {"principal": ctx.principal, "what": "page"}, 404)


def _form_page(
    request: Request,
    ctx: Context,
    cls: type[Command],
    at: Standing,
    tree: fields.Tree,
    errors: fields.Errors,
    *,
    version: int,
    key: str,
    status: int = 200,
    changes: list[Any] | None = None,
) -> HTMLResponse:
    return form_flow.form_page(
        request,
        ctx,
        heading=cls.heading,
        case=at.case,
        post_to=f"/cases/{at.case.id}/do/{cls.path}",
        specs=fields.specs(cls),
        tree=tree,
        errors=errors,
        version=version,
        key=key,
        status=status,
        changes=changes,
    )


async def _standing(
    request: Request,
    services: ServicesDep,
    ctx: Context,
    case_id: uuid.UUID,
    path: str,
    *,
    opening: bool,
) -> tuple[type[Command], Standing] | HTMLResponse:
    """The command of `path` and the case as the form sees it, or the page that refuses.
    Opening a form (`opening`) also needs the action allowed in the case's state now; a
    posted form leaves that to the domain, behind the idempotent replay, so a double click
    lands on the case it changed rather than on "you cannot do this"."""
    cls = BY_PATH.get(path)
    if cls is None:
        return _not_found(request, ctx)
    try:
        at = await services.read(lambda s: standing(s, ctx, case_id, cls.trigger))
    except CaseNotFound:
        return _not_found(request, ctx)
    if not at.may:
        return form_flow.cannot(request, ctx, refusal(command_perm(cls.trigger)).capitalize(), 403)
    if opening and not at.now:
        said = f"You cannot do this while the case is at “{word(at.state)}”."
        return form_flow.cannot(request, ctx, said, 409)
    return cls, at


@router.get("/cases/{case_id}/do/{path}", response_class=HTMLResponse)
async def command_form(
    case_id: uuid.UUID, path: str, request: Request, services: ServicesDep, ctx: PageCtx
) -> HTMLResponse:
    found = await _standing(request, services, ctx, case_id, path, opening=True)
    if isinstance(found, HTMLResponse):
        return found
    cls, at = found
    tree = fields.initial(fields.specs(cls))
    return _form_page(request, ctx, cls, at, tree, {}, version=at.version, key=posting.new_key())


@router.post("/cases/{case_id}/do/{path}", response_class=HTMLResponse)
async def command_post(
    case_id: uuid.UUID, path: str, request: Request, services: ServicesDep, ctx: PageCtx
) -> Response:
    form = await posting.posted(request)
    if not posting.proved(request, form):
        return render(request, "refused.html", {"principal": ctx.principal}, 403)
    found = await _standing(request, services, ctx, case_id, path, opening=False)
    if isinstance(found, HTMLResponse):
        return found
    cls, at = found

    def page(tree: fields.Tree, errors: fields.Errors, **shown: Any) -> HTMLResponse:
        return _form_page(request, ctx, cls, at, tree, errors, **shown)

    def work(command: Command, version: int) -> Work:
        def run(session: Session) -> Outcome:
            done = execute_command(session, ctx, case_id, version, command)
            return case_outcome(session, ctx, done.case, 200, done.warnings, done.deadlines)

        return run

    what = form_flow.Posting(
        model=cls,
        action=cls.trigger,
        case_id=case_id,
        api_path=action_path(case_id, cls.trigger),
        work=work,
        done=f"/cases/{case_id}?done={cls.path}",
    )
    return await form_flow.submit(
        request, services, ctx, what, form, opened_at=at.version, page=page
    )


def form_link(trigger: str) -> tuple[str, str] | None:
    """(path segment, heading) of the form of `trigger`, if it has one."""
    path = PATH_OF_TRIGGER.get(trigger)
    return (path, BY_PATH[path].heading) if path else None


def done_heading(path: str | None) -> str | None:
    """The heading of the command whose form just succeeded (the case page's banner)."""
    cls = BY_PATH.get(path or "")
    return cls.heading if cls is not None else None


templates.env.globals.update(form_link=form_link, done_heading=done_heading, row_label=row_label)
