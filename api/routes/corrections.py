"""Corrections of recorded facts: POST one (a change of the case, like a command),
GET the list (redacted like the timeline). Thin: the rules are in
workflow/cases/corrections.py."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Response
from sqlalchemy.orm import Session

from api.deps import Ctx, ExpectedVersion, Idempotency, ServicesDep
from api.errors import responses
from api.gateway import Outcome, case_outcome, submit
from api.schemas.cases import CaseOut
from api.schemas.corrections import CorrectionOut, Corrections
from workflow.cases import corrections
from workflow.commands.correction import EVENT_TYPE, Correction
from workflow.reads import queries

router = APIRouter(prefix="/api/v1", tags=["commands"])


@router.post(
    "/cases/{case_id}/corrections",
    response_model=CaseOut,
    summary="Correct a recorded fact",
    responses=responses(401, 403, 404, 409, 412, 413, 422, 428, 503),
)
async def post_correction(
    case_id: uuid.UUID,
    body: Correction,
    services: ServicesDep,
    ctx: Ctx,
    expected_version: ExpectedVersion,
    idem: Idempotency,
) -> Response:
    """Correct fields of one stage record (a wrong date, a typo, the wrong decision),
    with the reason. Allowed to the roles that may record that stage. The corrected
    values become the case's facts and deadlines are recomputed; the original
    timeline entry stays, and the correction is a timeline entry of its own with the
    old and new values. Refused (422) for a field that is not correctable, a value
    the stage's own rules refuse or a date order they refuse; refused (409,
    `history-conflict`) when the case's current state could not have been reached
    with the corrected facts (e.g. the decision changed to no review after a reviewer
    was commissioned)."""

    def work(session: Session) -> Outcome:
        done = corrections.correct(session, ctx, case_id, expected_version, body)
        return case_outcome(session, ctx, done.case, 200, done.warnings)

    return await submit(services, ctx, EVENT_TYPE, case_id, work, idem)


@router.get(
    "/cases/{case_id}/corrections",
    response_model=Corrections,
    responses=responses(401, 404, 422, 503),
    tags=["cases"],
)
async def get_corrections(case_id: uuid.UUID, services: ServicesDep, ctx: Ctx) -> Corrections:
    """The case's corrections, oldest first: which record and fields, when, by whom;
    the old and new values and the reason only for roles that see personal data."""

    def run(session: Session) -> tuple[Corrections, bool]:
        events, personal = corrections.corrections_of(session, ctx, case_id)
        items = [CorrectionOut.of(e, personal) for e in events]
        return Corrections(case_id=case_id, items=items), personal

    listed, personal = await services.read(run)
    if personal and listed.items:
        await services.write(lambda s: queries.record_read(s, ctx, case_id, "read_corrections"))
    return listed
