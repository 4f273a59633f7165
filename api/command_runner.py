"""Running a command from a route: audited and idempotent in one transaction
(workflow/services/runner.py), then rendered with its ETag and Location."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import TypeVar

from fastapi import Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.deps import Services
from api.schemas.cases import CaseOut
from workflow.models import Case
from workflow.services.base import Context
from workflow.services.idempotency import IdempotencyRequest, Outcome
from workflow.services.queries import view_of
from workflow.services.runner import run_command

M = TypeVar("M", bound=BaseModel)


def case_outcome(
    session: Session, ctx: Context, case: Case, status_code: int, warnings: list[str] | None = None
) -> Outcome:
    """The case as the caller may see it, as a command's answer."""
    out = CaseOut.of_view(view_of(session, ctx, case))
    out.warnings = list(warnings or [])
    return Outcome(
        status_code,
        out.model_dump(mode="json"),
        etag=f'"{case.version}"',
        location=f"/api/v1/cases/{case.id}" if status_code == 201 else None,
    )


async def run(
    services: Services,
    ctx: Context,
    action: str,
    case_id: uuid.UUID | None,
    work: Callable[[Session], Outcome],
    idem: IdempotencyRequest | None,
    response: Response,
    model: type[M],
) -> M:
    """Run `work` as one audited, idempotent command; render it as `model`."""
    outcome, replayed = await services.call(
        run_command, services.database, ctx, action=action, case_id=case_id, work=work, idem=idem
    )
    response.status_code = outcome.status_code
    if outcome.etag:
        response.headers["ETag"] = outcome.etag
    if outcome.location:
        response.headers["Location"] = outcome.location
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return model.model_validate(outcome.body)
