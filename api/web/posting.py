"""What every form of the web pages shares: reading the posted form, proving it (CSRF),
the idempotency key it carries, and running its change through the API's gateway
(api/gateway.py `transact`: one transaction, audited, replayed for the same key)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi import Request
from pydantic import BaseModel
from pydantic_core import to_json

from api.deps import Services
from api.gateway import Work, transact
from api.replays import IdempotencyRequest
from api.web import forms
from workflow.access import sessions
from workflow.context import Context

KEY = "idempotency_key"
VERSION = "version"
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


async def posted(request: Request) -> dict[str, Any]:
    """The posted form: name -> text, or the list of texts of a repeated name."""
    form = await request.form()
    out: dict[str, Any] = {}
    for name in form:
        values = [v for v in form.getlist(name) if isinstance(v, str)]
        out[name] = values if len(values) > 1 else (values[0] if values else "")
    return out


def proved(request: Request, form: dict[str, Any]) -> bool:
    """The form came from a page of this site open in the caller's session (CSRF)."""
    active = getattr(request.state, "web_session", None)
    token = form.get(forms.FIELD)
    return (
        active is not None
        and forms.same_origin(request)
        and isinstance(token, str)
        and sessions.proves_form(active, token)
    )


def new_key() -> str:
    """The idempotency key of one rendering of a form."""
    return str(uuid.uuid4())


def key_of(form: dict[str, Any]) -> str:
    """The form's idempotency key, or a new one if it carries none that is well formed
    (then a retry is not recognised, but nothing is recorded twice by the key alone)."""
    key = form.get(KEY)
    return key if isinstance(key, str) and _UUID.match(key) else new_key()


def version_of(form: dict[str, Any]) -> int | None:
    raw = form.get(VERSION)
    return int(raw) if isinstance(raw, str) and raw.isdigit() and len(raw) < 10 else None


async def run(
    services: Services,
    ctx: Context,
    *,
    action: str,
    case_id: uuid.UUID | None,
    api_path: str,
    command: BaseModel,
    key: str,
    work: Work,
) -> Any:
    """Run `work` through the gateway as the API runs the same command: the same
    transaction, audit and idempotency (the form's key, scoped to the caller; the
    request compared is the API's path and the command's JSON)."""
    body = to_json(command.model_dump(mode="json"))
    idem = IdempotencyRequest.of(f"web:{key}", "POST", api_path, body)
    outcome, _ = await services.call(
        transact, services.database, ctx, action=action, case_id=case_id, work=work, idem=idem
    )
    return outcome
