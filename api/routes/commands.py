"""Command endpoints: one POST per command of the registry, each with its own body.

Thin by design: parse the body, hand the command to the engine through the gateway
(api/gateway.py: audited, idempotent, committed before the response), render the case.
"""

# No `from __future__ import annotations` here: each endpoint's body annotation
# must be the concrete command class when FastAPI inspects it.
import uuid
from collections.abc import Awaitable, Callable

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from api.deps import Ctx, ExpectedVersion, Idempotency, ServicesDep
from api.errors import responses
from api.gateway import Outcome, case_outcome, submit
from api.schemas.cases import CaseOut
from workflow.cases import deadline_adjustments
from workflow.cases.deadline_adjustments import AdjustDeadline
from workflow.cases.engine import execute_command, open_case
from workflow.commands.base import Command
from workflow.commands.intake import LogIncident
from workflow.commands.registry import CASE_COMMANDS, PATH_OF_TRIGGER

router = APIRouter(prefix="/api/v1", tags=["commands"])
COMMAND_ERRORS = responses(401, 403, 404, 409, 412, 413, 422, 428, 503)


def action_path(case_id: uuid.UUID, trigger: str) -> str:
    return f"/api/v1/cases/{case_id}/{PATH_OF_TRIGGER[trigger]}"


@router.post(
    "/incidents",
    status_code=201,
    response_model=CaseOut,
    summary=LogIncident.heading,
    responses=responses(401, 403, 409, 413, 422, 503),
    tags=["cases"],
)
async def log_incident(
    body: LogIncident, services: ServicesDep, ctx: Ctx, idem: Idempotency
) -> Response:
    """Open a case. A notifiable incident enters the review path; any other is kept
    in `not_notifiable`. The case is governed by `rulebook` (default: the current one)."""

    def work(session: Session) -> Outcome:
        case = open_case(session, ctx, body)
        return case_outcome(session, ctx, case, 201)

    return await submit(services, ctx, body.trigger, None, work, idem)


def _command_endpoint(command_cls: type[Command]) -> Callable[..., Awaitable[Response]]:
    async def endpoint(
        case_id: uuid.UUID,
        body: command_cls,  # type: ignore[valid-type]
        services: ServicesDep,
        ctx: Ctx,
        expected_version: ExpectedVersion,
        idem: Idempotency,
    ) -> Response:
        def work(session: Session) -> Outcome:
            done = execute_command(session, ctx, case_id, expected_version, body)
            return case_outcome(session, ctx, done.case, 200, done.warnings, done.deadlines)

        return await submit(services, ctx, command_cls.trigger, case_id, work, idem)

    endpoint.__doc__ = command_cls.__doc__
    return endpoint


# One route per command of the registry (workflow/commands/registry.py).
for _cls in CASE_COMMANDS:
    router.add_api_route(
        f"/cases/{{case_id}}/{_cls.path}",
        _command_endpoint(_cls),
        methods=["POST"],
        response_model=CaseOut,
        summary=_cls.heading,
        name=_cls.trigger,
        responses=COMMAND_ERRORS,
    )


@router.post(
    "/cases/{case_id}/deadline-adjustments",
    response_model=CaseOut,
    summary="Pause, resume or extend a deadline",
    responses=COMMAND_ERRORS,
)
async def adjust_deadline(
    case_id: uuid.UUID,
    body: AdjustDeadline,
    services: ServicesDep,
    ctx: Ctx,
    expected_version: ExpectedVersion,
    idem: Idempotency,
) -> Response:
    """Record a pause, resumption or extension of one deadline, with its reason and who
    approved it; the case's deadlines are recomputed and the change is on the timeline."""

    def work(session: Session) -> Outcome:
        case = deadline_adjustments.adjust_deadline(session, ctx, case_id, expected_version, body)
        return case_outcome(session, ctx, case, 200)

    return await submit(services, ctx, deadline_adjustments.EVENT_TYPE, case_id, work, idem)
