"""Command endpoints: one POST per business action, each with its own body model.

Thin by design: parse the body, hand the command to the engine inside one
transaction (committed before the response), render the case.
"""

# No `from __future__ import annotations` here: each endpoint's body annotation
# must be the concrete command class when FastAPI inspects it.
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from api.deps import Actor, ExpectedVersion, Now, ServicesDep
from api.errors import responses
from api.schemas.cases import CaseOut
from workflow.errors import InvalidFacts, UnknownRulebook
from workflow.models import Case
from workflow.services import closure, commissioning, intake, publication, rapid_review
from workflow.services.base import Command, Context
from workflow.services.engine import execute, open_case
from workflow.services.queries import next_actions

router = APIRouter(prefix="/api/v1", tags=["commands"])

# path segment, command, summary: one row per business action.
COMMAND_ROUTES: list[tuple[str, type[Command], str]] = [
    ("notification", intake.RecordNotification, "Record the serious incident notification"),
    ("partners-informed", intake.RecordPartnersInformed, "Record that partners were informed"),
    ("rapid-review", rapid_review.CompleteRapidReview, "Complete the rapid review"),
    ("decision", rapid_review.RecordDecision, "Record the partners' decision"),
    ("panel-response", rapid_review.RecordPanelResponse, "Record the Panel's response"),
    ("reviewer", commissioning.CommissionReviewer, "Commission the independent reviewer"),
    ("terms-of-reference", commissioning.AgreeTermsOfReference, "Agree terms of reference"),
    ("report", commissioning.ReceiveFinalReport, "Record the final report"),
    (
        "pre-publication",
        publication.SendReportToPanel,
        "Record the report sent to the Panel and Secretary of State",
    ),
    ("publication", publication.PublishReport, "Record publication"),
    ("publication-deferral", publication.DeferPublication, "Defer publication"),
    ("publication-resumption", publication.ResumePublication, "Resume deferred publication"),
    ("non-publication", publication.DecideNotToPublish, "Decide not to publish"),
    ("closure", closure.CloseCase, "Close the case"),
]
PATH_OF_TRIGGER = {cls.trigger: segment for segment, cls, _ in COMMAND_ROUTES}


def action_path(case_id: uuid.UUID, trigger: str) -> str:
    return f"/api/v1/cases/{case_id}/{PATH_OF_TRIGGER[trigger]}"


def render_case(case: Case, services: Any, response: Response) -> CaseOut:
    rulebook = services.rulebooks.get(case.rulebook_id, case.rulebook_version)
    response.headers["ETag"] = f'"{case.version}"'
    return CaseOut.full(case, [a.trigger for a in next_actions(rulebook, case.state)])


@router.post(
    "/incidents",
    status_code=201,
    response_model=CaseOut,
    summary="Log an incident",
    responses=responses(404, 409, 422, 503),
    tags=["cases"],
)
async def log_incident(
    body: intake.LogIncident, services: ServicesDep, actor: Actor, now: Now, response: Response
) -> CaseOut:
    """Open a case. A notifiable incident enters the review path; any other is kept
    in `not_notifiable`. The case is governed by `rulebook` (default: the current one)."""
    ctx = Context(services.rulebooks, actor, now)

    def run(session: Session) -> CaseOut:
        try:
            case = open_case(session, ctx, body)
        except UnknownRulebook as exc:
            raise InvalidFacts(exc.detail, "rulebook") from None
        return render_case(case, services, response)

    out = await services.write(run)
    response.headers["Location"] = f"/api/v1/cases/{out.id}"
    return out


def _command_endpoint(command_cls: type[Command]) -> Callable[..., Awaitable[CaseOut]]:
    async def endpoint(
        case_id: uuid.UUID,
        body: command_cls,  # type: ignore[valid-type]
        services: ServicesDep,
        actor: Actor,
        now: Now,
        expected_version: ExpectedVersion,
        response: Response,
    ) -> CaseOut:
        ctx = Context(services.rulebooks, actor, now)

        def run(session: Session) -> CaseOut:
            case = execute(session, ctx, case_id, expected_version, body)
            return render_case(case, services, response)

        return await services.write(run)

    endpoint.__doc__ = command_cls.__doc__
    return endpoint


for _segment, _cls, _summary in COMMAND_ROUTES:
    router.add_api_route(
        f"/cases/{{case_id}}/{_segment}",
        _command_endpoint(_cls),
        methods=["POST"],
        response_model=CaseOut,
        summary=_summary,
        name=_cls.trigger,
        responses=responses(404, 409, 412, 422, 428, 503),
    )
