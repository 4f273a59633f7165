"""Action plans: a case's recommendations and actions, progress, sign-off; open and
overdue actions across the caller's cases; thematic reviews."""

# No `from __future__ import annotations`: the generated endpoints' body annotations
# must be the concrete models when FastAPI inspects them.
import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Response
from sqlalchemy.orm import Session

from api.deps import Ctx, ExpectedVersion, Idempotency, ServicesDep
from api.errors import responses
from api.gateway import Outcome, case_outcome, submit
from api.schemas.actions import ActionList, ActionOut, ActionPlanOut
from api.schemas.cases import CaseOut
from api.schemas.params import IsoDate
from workflow.cases import action_plan as plan
from workflow.cases import thematic
from workflow.commands.thematic import OpenThematicReview
from workflow.context import Context
from workflow.reads import action_queries, queries

router = APIRouter(prefix="/api/v1", tags=["action plans"])
COMMAND_ERRORS = responses(401, 403, 404, 409, 412, 413, 422, 428, 503)


def _plan_outcome(session: Session, ctx: Context, case_id: uuid.UUID, status: int) -> Outcome:
    view = action_queries.plan_of(session, ctx, case_id)
    return Outcome(
        status, ActionPlanOut.of(view).model_dump(mode="json"), etag=f'"{view.case.version}"'
    )


@router.get(
    "/cases/{case_id}/actions",
    response_model=ActionPlanOut,
    responses=responses(401, 404, 422, 503),
)
async def get_action_plan(case_id: uuid.UUID, services: ServicesDep, ctx: Ctx) -> ActionPlanOut:
    """The case's recommendations and actions, with progress and overdue / due-soon flags.
    Texts, owners and notes are null where your role does not include personal data
    (an action owner sees those of the actions assigned to them); a read that returns
    them is audited."""

    def read(session: Session) -> tuple[ActionPlanOut, list[uuid.UUID]]:
        view = action_queries.plan_of(session, ctx, case_id)
        return ActionPlanOut.of(view), view.personal_cases

    out, personal = await services.read(read)
    if personal:  # audited before it is sent, as a case read is
        await services.write(lambda s: queries.record_reads(s, ctx, personal, "read_action_plan"))
    return out


@router.post(
    "/cases/{case_id}/actions",
    status_code=201,
    response_model=ActionPlanOut,
    responses=COMMAND_ERRORS,
)
async def add_action(
    case_id: uuid.UUID,
    body: plan.AddAction,
    services: ServicesDep,
    ctx: Ctx,
    version: ExpectedVersion,
    idem: Idempotency,
) -> Response:
    """Add an action for one of the final report's recommendations (review group)."""

    def work(session: Session) -> Outcome:
        plan.add_action(session, ctx, case_id, version, body)
        return _plan_outcome(session, ctx, case_id, 201)

    return await submit(services, ctx, "add_action", case_id, work, idem)


def _action_route(path: str, body_type: type, fn: object, event: str, doc: str) -> None:
    async def endpoint(
        case_id: uuid.UUID,
        action_id: uuid.UUID,
        body: body_type,  # type: ignore[valid-type]
        services: ServicesDep,
        ctx: Ctx,
        version: ExpectedVersion,
        idem: Idempotency,
    ) -> Response:
        def work(session: Session) -> Outcome:
            fn(session, ctx, case_id, version, action_id, body)  # type: ignore[operator]
            return _plan_outcome(session, ctx, case_id, 200)

        return await submit(services, ctx, event, case_id, work, idem)

    endpoint.__doc__ = doc
    router.add_api_route(
        f"/cases/{{case_id}}/actions/{{action_id}}/{path}",
        endpoint,
        methods=["POST"],
        response_model=ActionPlanOut,
        name=event,
        summary=doc.split(".")[0],
        responses=COMMAND_ERRORS,
    )


_action_route(
    "progress",
    plan.ReportProgress,
    plan.report_progress,
    "action_progress",
    "Report progress on an action. The action's owner or the review group; "
    "evidence names documents of the case.",
)
_action_route(
    "sign-off",
    plan.SignOff,
    plan.sign_off,
    "sign_off_action",
    "Sign off a completed action. The review group, once evidence is in.",
)
_action_route(
    "not-achieved",
    plan.NotAchieved,
    plan.not_achieved,
    "close_action_not_achieved",
    "Close an action as not achieved, with the reason. The review group.",
)


@router.get("/actions", response_model=ActionList, responses=responses(401, 422, 503))
async def list_actions(
    services: ServicesDep,
    ctx: Ctx,
    agency: Annotated[plan.Agency | None, Query()] = None,
    status: Annotated[
        str | None,
        Query(
            pattern="^(open|overdue|not_started|in_progress|completed_awaiting_evidence|"
            "completed_signed_off|not_achieved)$",
            description="open, overdue, or one status",
        ),
    ] = None,
    theme: Annotated[str | None, Query(max_length=64)] = None,
    due_before: Annotated[IsoDate | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ActionList:
    """Actions across every case you may see, earliest due first: e.g. all open actions
    of an agency (`agency=police&status=open`), overdue actions, actions by theme.
    Descriptions, owners and reasons as in the case's action plan; audited per case
    whose personal data is returned."""
    wanted = action_queries.ActionFilter(agency, status, theme, due_before)
    found = await services.read(lambda s: action_queries.find_actions(s, ctx, wanted, limit))
    personal = action_queries.personal_cases(found)
    if personal:
        await services.write(lambda s: queries.record_reads(s, ctx, personal, "read_actions"))
    return ActionList(items=[ActionOut.of(v) for v in found])


@router.post(
    "/thematic-reviews",
    status_code=201,
    response_model=CaseOut,
    responses=responses(401, 403, 409, 413, 422, 503),
    tags=["cases"],
)
async def open_thematic_review(
    body: OpenThematicReview,
    services: ServicesDep,
    ctx: Ctx,
    idem: Idempotency,
) -> Response:
    """Open a thematic review of several cases (review group). It starts at reviewer
    commissioning; each source case records that the review carries its learning."""

    def work(session: Session) -> Outcome:
        case = thematic.open_thematic(session, ctx, body)
        return case_outcome(session, ctx, case, 201)

    return await submit(services, ctx, body.trigger, None, work, idem)
