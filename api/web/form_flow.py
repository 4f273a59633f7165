"""What every posted form of a case does with its answers, whatever it records (a
command of the registry, a change of the action plan): add or remove a row, validate
with the API's own model, run the same domain call through the API's gateway
(api/web/posting.py), and turn each refusal into the page a person understands -
the error summary with the answers kept, "This case changed since you opened the
form" with what changed, or "You cannot do this". Success goes to `done` (303)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session

from api.deps import Services
from api.gateway import Work
from api.schemas.cases import TimelineEvent
from api.web import fields, posting
from api.web.form_view import bind, loose_errors, summary
from api.web.session import render
from workflow.context import Context
from workflow.core.errors import (
    CommandNotAllowed,
    Forbidden,
    IdempotencyKeyReused,
    InvalidFacts,
    VersionMismatch,
)
from workflow.reads import queries


class FormPage(Protocol):
    """Renders the form again: the answers, their errors, the status, the version and
    idempotency key it carries, and (after a conflict) the changes since it opened."""

    def __call__(
        self,
        tree: fields.Tree,
        errors: fields.Errors,
        *,
        status: int = 200,
        version: int,
        key: str,
        changes: list[Any] | None = None,
    ) -> HTMLResponse: ...


@dataclass(frozen=True)
class Posting:
    """One posted form of a case and what it does."""

    model: type[BaseModel]
    action: str  # the audited action (the API's name for the same change)
    case_id: uuid.UUID
    api_path: str  # the API route doing the same change (the replay compares it)
    work: Callable[[Any, int], Work]  # (validated body, version) -> the gateway's work
    done: str  # where a success lands


def form_page(
    request: Request,
    ctx: Context,
    *,
    heading: str,
    case: Any,
    post_to: str,
    specs: tuple[fields.Spec, ...],
    tree: fields.Tree,
    errors: fields.Errors,
    version: int,
    key: str,
    status: int = 200,
    changes: list[Any] | None = None,
    caption: str | None = None,
) -> HTMLResponse:
    """A form of `case` (templates/command_form.html): its fields bound to the answers
    and errors, the version and idempotency key it carries, and after a conflict the
    changes since it was opened."""
    bound = bind(specs, tree, errors)
    context = {
        "principal": ctx.principal,
        "nav": "cases",
        "heading": heading,
        "caption": caption,
        "case": case,
        "fields": bound,
        "errors": summary(bound, errors),
        "loose": loose_errors(bound, errors),
        "version": version,
        "idempotency_key": key,
        "action": post_to,
        "changes": changes,
    }
    return render(request, "command_form.html", context, status)


def cannot(request: Request, ctx: Context, message: str, status: int) -> HTMLResponse:
    """The page for a form the person may not open or send ("You cannot do this")."""
    return render(request, "cannot.html", {"principal": ctx.principal, "message": message}, status)


def changes_since(session: Session, ctx: Context, case_id: uuid.UUID, since: int) -> list[Any]:
    """The timeline entries after version `since` (what, who, when; no payloads, so no
    personal data is read)."""
    events = [e for e in queries.timeline(session, ctx, case_id)[0] if e.sequence > since]
    return [TimelineEvent.of(e, personal=False) for e in events]


async def submit(
    request: Request,
    services: Services,
    ctx: Context,
    posting_: Posting,
    form: dict[str, Any],
    *,
    opened_at: int,
    page: FormPage,
    specs: tuple[fields.Spec, ...] | None = None,
) -> Response:
    """Handle the posted `form` (already proved against CSRF). `opened_at` is the case's
    version when the form carries none."""
    specs = specs if specs is not None else fields.specs(posting_.model)
    tree = fields.collect(specs, form)
    version, key = posting.version_of(form) or opened_at, posting.key_of(form)
    if isinstance(form.get("_add"), str) and fields.add_row(specs, tree, form["_add"]):
        return page(tree, {}, version=version, key=key)
    if isinstance(form.get("_remove"), str) and fields.remove_row(specs, tree, form["_remove"]):
        return page(tree, {}, version=version, key=key)
    converted = fields.to_data(specs, tree)
    try:
        body = posting_.model.model_validate(converted.data)
    except ValidationError as exc:
        errors = {**fields.pydantic_errors(specs, exc.errors(), converted.kept), **converted.errors}
        return page(tree, errors, status=400, version=version, key=key)
    if converted.errors:
        return page(tree, converted.errors, status=400, version=version, key=key)
    try:
        await posting.run(
            services,
            ctx,
            action=posting_.action,
            case_id=posting_.case_id,
            api_path=posting_.api_path,
            command=body,
            key=key,
            work=posting_.work(body, version),
        )
    except VersionMismatch as exc:
        since = await services.read(lambda s: changes_since(s, ctx, posting_.case_id, version))
        return page(
            tree, {}, status=409, version=exc.current_version, key=posting.new_key(), changes=since
        )
    except InvalidFacts as exc:
        errors = {exc.field: fields.in_words(exc.detail, specs)}
        return page(tree, errors, status=400, version=version, key=key)
    except IdempotencyKeyReused:
        said = "This form was already sent with other answers. Check the case, then try again."
        return page(tree, {"": said}, status=409, version=version, key=posting.new_key())
    except CommandNotAllowed as exc:
        errors = {"": fields.in_words(exc.detail, specs)}
        return page(tree, errors, status=409, version=version, key=key)
    except Forbidden as exc:
        return cannot(request, ctx, exc.detail.capitalize(), 403)
    return RedirectResponse(posting_.done, status_code=303)
