"""Running a command as one audited, idempotent unit of work.

`run_command` commits the command (with its timeline event and audit record)
in one transaction, or, when the command is refused, commits only an audit
record of the refusal. With an idempotency key, a replay returns the first
outcome without a second effect, including when two replays race.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.audit import chain as audit
from workflow.database import Database, DatabaseUnavailable
from workflow.errors import DomainError, Forbidden
from workflow.models import Case, Partnership
from workflow.services import idempotency
from workflow.services.access import sees_personal_data, visible_case
from workflow.services.base import Context
from workflow.services.idempotency import IdempotencyRequest, Outcome


def run_command(
    db: Database,
    ctx: Context,
    *,
    action: str,
    case_id: uuid.UUID | None,
    work: Callable[[Session], Outcome],
    idem: IdempotencyRequest | None = None,
) -> tuple[Outcome, bool]:
    """The outcome, and whether it is a replay of an earlier identical request."""
    try:
        return _run(db, ctx, case_id, work, idem)
    except (DomainError, IntegrityError) as exc:
        if isinstance(exc, DomainError) and not isinstance(exc, DatabaseUnavailable):
            outcome = f"refused:{type(exc).__name__}"
            db.write(lambda s: record_refusal(s, ctx, action, case_id, outcome))
        raise


def _run(
    db: Database,
    ctx: Context,
    case_id: uuid.UUID | None,
    work: Callable[[Session], Outcome],
    idem: IdempotencyRequest | None,
) -> tuple[Outcome, bool]:
    if idem is not None:
        replay = db.read(lambda s: _replayable(s, ctx, idem, case_id))
        if replay is not None:
            return replay, True

    def transaction(session: Session) -> Outcome:
        outcome = work(session)
        if idem is not None:
            idempotency.store(session, ctx.principal.user_id, idem, outcome, ctx.now)
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
    outcome = idempotency.lookup(session, ctx.principal.user_id, idem, ctx.now)
    if outcome is None:
        return None
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


def record_refusal(
    session: Session, ctx: Context, action: str, case_id: uuid.UUID | None, outcome: str
) -> None:
    """Audit a refused request in the chain of the case's partnership (or "system")."""
    chain = audit.SYSTEM_CHAIN
    case = session.get(Case, case_id) if case_id else None
    if case is not None:
        partnership = session.get(Partnership, case.partnership_id)
        chain = partnership.code if partnership else chain
    audit.append(
        session,
        chain=chain,
        occurred_at=ctx.now,
        actor=ctx.actor,
        action=action,
        case_id=case_id if case is not None else None,
        client=ctx.client,
        outcome=outcome,
        detail={} if case is not None else {"case_id_given": bool(case_id)},
    )
