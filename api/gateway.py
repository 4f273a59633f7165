"""The API gateway for changes: request -> domain -> rendered answer -> commit.

A route hands `submit` a `work(session) -> Outcome` that calls the domain and renders
its answer. In ONE transaction the gateway runs it and stores the answer for replays
of the same Idempotency-Key (api/replays.py); then it commits and sends the answer.
Control crosses the api/workflow line once each way. A refused change is audited by
the domain (`record_refusal`) in a transaction of its own, then raised (api/errors.py
maps it). A replay whose caller may no longer see its answer is refused.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Response
from pydantic_core import to_json
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from api import replays
from api.deps import Services
from api.replays import IdempotencyRequest
from api.schemas.cases import CaseOut
from workflow.access.scoping import sees_personal_data, visible_case
from workflow.cases.refusals import record_refusal
from workflow.context import Context
from workflow.core.deadlines import DeadlineStatus
from workflow.core.errors import DomainError, Forbidden
from workflow.reads.queries import view_of
from workflow.storage.database import Database, DatabaseUnavailable
from workflow.storage.models import Case


@dataclass(frozen=True)
class Outcome:
    """A successful change's answer, as it is sent (and replayed)."""

    status_code: int
    body: dict[str, Any]
    etag: str | None = None
    location: str | None = None


Work = Callable[[Session], Outcome]


def case_outcome(
    session: Session,
    ctx: Context,
    case: Case,
    status_code: int,
    warnings: list[str] | None = None,
    current: list[DeadlineStatus] | None = None,
) -> Outcome:
    """The case as the caller may see it, as a command's answer; `current`: the
    deadline statuses the command just stored (see `queries.view_of`)."""
    out = CaseOut.of_view(view_of(session, ctx, case, current=current))
    out.warnings = list(warnings or [])
    return Outcome(
        status_code,
        out.model_dump(mode="json"),
        etag=f'"{case.version}"',
        location=f"/api/v1/cases/{case.id}" if status_code == 201 else None,
    )


async def submit(
    services: Services,
    ctx: Context,
    action: str,
    case_id: uuid.UUID | None,
    work: Work,
    idem: IdempotencyRequest | None,
) -> Response:
    """Run `work` as one audited, idempotent change and answer with its outcome. The
    body is sent as stored (it is already the response model dumped), so it is not
    validated and serialised a second time; the route keeps its `response_model` for
    OpenAPI."""
    outcome, replayed = await services.call(
        transact, services.database, ctx, action=action, case_id=case_id, work=work, idem=idem
    )
    headers = {}
    if outcome.etag:
        headers["ETag"] = outcome.etag
    if outcome.location:
        headers["Location"] = outcome.location
    if replayed:
        headers["Idempotent-Replayed"] = "true"
    # pydantic-core's serialiser: the same compact UTF-8 JSON as JSONResponse's
    # json.dumps, at a fraction of its cost for a case's body.
    return Response(
        to_json(outcome.body),
        status_code=outcome.status_code,
        headers=headers,
        media_type="application/json",
    )


def transact(
    db: Database,
    ctx: Context,
    *,
    action: str,
    case_id: uuid.UUID | None,
    work: Callable[[Session], Any],
    idem: IdempotencyRequest | None = None,
) -> tuple[Any, bool]:
    """The outcome of `work` committed (or replayed), and whether it is a replay."""
    try:
        return _transact(db, ctx, case_id, work, idem)
    except (DomainError, IntegrityError) as exc:
        if isinstance(exc, DomainError) and not isinstance(exc, DatabaseUnavailable):
            refused = f"refused:{type(exc).__name__}"
            db.write(lambda s: record_refusal(s, ctx, action, case_id, refused))
        raise


def _transact(
    db: Database,
    ctx: Context,
    case_id: uuid.UUID | None,
    work: Callable[[Session], Any],
    idem: IdempotencyRequest | None,
) -> tuple[Any, bool]:
    if idem is not None:
        replay = db.read(lambda s: _replayable(s, ctx, idem, case_id))
        if replay is not None:
            return replay, True

    def transaction(session: Session) -> Any:
        outcome = work(session)
        if idem is not None:
            replays.store(
                session,
                ctx.principal.user_id,
                idem,
                outcome.status_code,
                outcome.body,
                outcome.etag,
                outcome.location,
                ctx.now,
            )
        return outcome

    try:
        return db.write(transaction), False
    except (DomainError, IntegrityError) as exc:
        if idem is not None and not isinstance(exc, DatabaseUnavailable):
            # A concurrent request with the same key may have won the race.
            replay = db.read(lambda s: _replayable(s, ctx, idem, case_id))
            if replay is not None:
                return replay, True
        raise


def _replayable(
    session: Session, ctx: Context, idem: IdempotencyRequest, case_id: uuid.UUID | None
) -> Outcome | None:
    """The stored outcome, if the caller may still see what it shows: roles can be
    withdrawn after the first request, and a replay must not outlive them."""
    stored = replays.lookup(session, ctx.principal.user_id, idem, ctx.now)
    if stored is None:
        return None
    outcome = Outcome(*stored)
    shown = case_id or _case_in(outcome)
    if shown is not None:
        case = visible_case(session, ctx.principal, shown)
        if outcome.body.get("records") is not None and not sees_personal_data(ctx.principal, case):
            raise Forbidden("your roles no longer allow seeing this response")
    return outcome


def _case_in(outcome: Outcome) -> uuid.UUID | None:
    raw = outcome.body.get("id") if "state" in outcome.body else outcome.body.get("case_id")
    try:
        return uuid.UUID(str(raw)) if raw else None
    except ValueError:
        return None
