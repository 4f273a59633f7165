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
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.deps import ServicesDep
from api.gateway import Outcome, case_outcome
from api.routes.commands import action_path
from api.schemas.cases import CaseSummary, TimelineEvent
from api.web import fields, posting
from api.web.form_view import bind, loose_errors, summary
from api.web.session import PageCtx, render, router, templates
from workflow.access.permissions import command as command_perm
from workflow.access.permissions import refusal
from workflow.cases.engine import execute_command
from workflow.commands.base import Command
from workflow.commands.registry import CASE_COMMANDS, PATH_OF_TRIGGER
from workflow.context import Context
from workflow.core.errors import (
    CaseNotFound,
    CommandNotAllowed,
    Forbidden,
    IdempotencyKeyReused,
    InvalidFacts,
    VersionMismatch,
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


def _changes(session: Session, ctx: Context, case_id: uuid.UUID, since: int) -> list[Any]:
    """The timeline entries after version `since` (what, who, when; no payloads, so no
    personal data is read)."""
    events = [e for e in queries.timeline(session, ctx, case_id)[0] if e.sequence > since]
    return [TimelineEvent.of(e, personal=False) for e in events]


def _cannot(request: Request, ctx: Context, message: str, status: int) -> HTMLResponse:
    return render(request, "cannot.html", {"principal": ctx.principal, "message": message}, status)


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
    specs = fields.specs(cls)
    bound = bind(specs, tree, errors)
    context = {
        "principal": ctx.principal,
        "nav": "cases",
        "command": cls,
        "case": at.case,
        "fields": bound,
        "errors": summary(bound, errors),
        "loose": loose_errors(bound, errors),
        "version": version,
        "idempotency_key": key,
        "action": f"/cases/{at.case.id}/do/{cls.path}",
        "changes": changes,
    }
    return render(request, "command_form.html", context, status)


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
        return _cannot(request, ctx, refusal(command_perm(cls.trigger)).capitalize(), 403)
    if opening and not at.now:
        said = f"You cannot do this while the case is at “{word(at.state)}”."
        return _cannot(request, ctx, said, 409)
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
    specs = fields.specs(cls)
    tree = fields.collect(specs, form)
    version, key = posting.version_of(form) or at.version, posting.key_of(form)
    page: dict[str, Any] = {"version": version, "key": key}
    if isinstance(form.get("_add"), str) and fields.add_row(specs, tree, form["_add"]):
        return _form_page(request, ctx, cls, at, tree, {}, **page)
    if isinstance(form.get("_remove"), str) and fields.remove_row(specs, tree, form["_remove"]):
        return _form_page(request, ctx, cls, at, tree, {}, **page)
    converted = fields.to_data(specs, tree)
    try:
        command = cls.model_validate(converted.data)
    except ValidationError as exc:
        errors = {**fields.pydantic_errors(specs, exc.errors(), converted.kept), **converted.errors}
        return _form_page(request, ctx, cls, at, tree, errors, status=400, **page)
    if converted.errors:
        return _form_page(request, ctx, cls, at, tree, converted.errors, status=400, **page)

    def work(session: Session) -> Outcome:
        done = execute_command(session, ctx, case_id, version, command)
        return case_outcome(session, ctx, done.case, 200, done.warnings, done.deadlines)

    try:
        await posting.run(
            services,
            ctx,
            action=cls.trigger,
            case_id=case_id,
            api_path=action_path(case_id, cls.trigger),
            command=command,
            key=key,
            work=work,
        )
    except VersionMismatch as exc:
        changes = await services.read(lambda s: _changes(s, ctx, case_id, version))
        page = {"version": exc.current_version, "key": posting.new_key()}
        return _form_page(request, ctx, cls, at, tree, {}, status=409, changes=changes, **page)
    except InvalidFacts as exc:
        errors = {exc.field: fields.in_words(exc.detail, specs)}
        return _form_page(request, ctx, cls, at, tree, errors, status=400, **page)
    except IdempotencyKeyReused:
        said = "This form was already sent with other answers. Check the case, then try again."
        page["key"] = posting.new_key()
        return _form_page(request, ctx, cls, at, tree, {"": said}, status=409, **page)
    except CommandNotAllowed as exc:
        errors = {"": fields.in_words(exc.detail, specs)}
        return _form_page(request, ctx, cls, at, tree, errors, status=409, **page)
    except Forbidden as exc:
        return _cannot(request, ctx, exc.detail.capitalize(), 403)
    return RedirectResponse(f"/cases/{case_id}?done={cls.path}", status_code=303)


def form_link(trigger: str) -> tuple[str, str] | None:
    """(path segment, heading) of the form of `trigger`, if it has one."""
    path = PATH_OF_TRIGGER.get(trigger)
    return (path, BY_PATH[path].heading) if path else None


def done_heading(path: str | None) -> str | None:
    """The heading of the command whose form just succeeded (the case page's banner)."""
    cls = BY_PATH.get(path or "")
    return cls.heading if cls is not None else None


templates.env.globals.update(form_link=form_link, done_heading=done_heading, row_label=row_label)
