"""Run a command against a case: the one path every state change takes.

Contract of `open_case` and `execute`: inside the caller's transaction they
check the caller's rights, the input against the case's facts, fire the
rulebook trigger on a snapshot (workflow.machine), then write the new state,
facts, stage record, version, exactly one timeline event and one audit record,
and flush. They never commit; a DomainError leaves the session unchanged.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from workflow import machine
from workflow.access.permissions import command as command_perm
from workflow.deadlines import Adjustment, AdjustmentKind, DeadlineStatus
from workflow.errors import Forbidden, InvalidFacts, VersionMismatch
from workflow.facts import ALL_FACTS
from workflow.models import Case
from workflow.rulebook import Rulebook
from workflow.services import action_plan, assignments, clock
from workflow.services.access import case_for_command, partnership_for_new_case, require_command
from workflow.services.base import Command, Context
from workflow.services.closure import CloseCase
from workflow.services.commissioning import (
    AgreeTermsOfReference,
    CommissionReviewer,
    ReceiveFinalReport,
)
from workflow.services.intake import LogIncident, RecordNotification, RecordPartnersInformed
from workflow.services.involvement import RecordInvolvement
from workflow.services.opening import new_case, rulebook_for
from workflow.services.publication import (
    DecideNotToPublish,
    DeferPublication,
    PublishReport,
    ResumePublication,
    SendReportToPanel,
    WithdrawPublication,
)
from workflow.services.rapid_review import CompleteRapidReview, RecordDecision, RecordPanelResponse
from workflow.services.recording import (
    add_timeline_event,
    audit_ok,
    notify_state_change,
    update_case,
)
from workflow.services.thematic import OpenThematicReview

COMMANDS: dict[str, type[Command]] = {
    c.trigger: c
    for c in (
        LogIncident,
        RecordNotification,
        RecordPartnersInformed,
        CompleteRapidReview,
        RecordDecision,
        RecordPanelResponse,
        CommissionReviewer,
        AgreeTermsOfReference,
        ReceiveFinalReport,
        SendReportToPanel,
        PublishReport,
        DeferPublication,
        ResumePublication,
        DecideNotToPublish,
        CloseCase,
        RecordInvolvement,
        WithdrawPublication,
        OpenThematicReview,  # opened by services/thematic.py, never through `execute`
    )
}


def case_facts(case: Case) -> dict[str, Any]:
    return {name: getattr(case, name) for name in ALL_FACTS}


def open_case(session: Session, ctx: Context, command: LogIncident) -> Case:
    """Create a case from a logged incident under the chosen (or default) rulebook."""
    partnership = partnership_for_new_case(session, ctx.principal, command.partnership)
    if not ctx.principal.may(command_perm(command.trigger), partnership.id, None):
        raise Forbidden("your roles do not allow logging an incident")
    rulebook = rulebook_for(ctx, command.rulebook, command.aware_date, partnership.nation)
    _check_in_force(rulebook, command)
    new_facts = command.facts()
    command.check_dates(new_facts, ctx.today)
    moved = machine.fire(rulebook, "start", new_facts, command.trigger)
    record = _record(command)
    case = new_case(
        ctx,
        partnership.id,
        rulebook,
        moved.to_state,
        command.record_key(),
        record,
        new_facts,
        local_reference=command.local_reference,
    )
    session.add(case)
    session.flush()  # the rows below are Core inserts referring to the case
    add_timeline_event(
        session, case, command.trigger, moved.from_state, moved.to_state, record, ctx
    )
    audit_ok(session, ctx, partnership.code, case, command.trigger)
    notify_state_change(session, ctx, case, moved.from_state)
    clock.refresh(session, ctx, rulebook, case)
    return case


def _check_in_force(rulebook: Rulebook, command: LogIncident) -> None:
    """A historic case is entered under the regime in force when the authority became
    aware; refuse a rulebook that was not in force then."""
    start, end = rulebook.effective_from, rulebook.effective_to
    if (start and command.aware_date < start) or (end and command.aware_date > end):
        raise InvalidFacts(
            f"rulebook {rulebook.id} was in force {start or '...'} to {end or 'now'}, "
            f"not on aware_date {command.aware_date}",
            "rulebook",
        )


@dataclass(frozen=True)
class Executed:
    case: Case
    warnings: list[str]  # deadlines this command met late (rulebooks that warn, not refuse)
    deadlines: list[DeadlineStatus]  # as stored by the command, as of today (unredacted)


def execute(
    session: Session, ctx: Context, case_id: uuid.UUID, expected_version: int, command: Command
) -> Case:
    """Apply `command` to the case if the caller may and it is still at `expected_version`."""
    return execute_command(session, ctx, case_id, expected_version, command).case


def execute_command(
    session: Session, ctx: Context, case_id: uuid.UUID, expected_version: int, command: Command
) -> Executed:
    """`execute`, also returning the warnings of deadlines met late by this command."""
    case, partnership = case_for_command(session, ctx.principal, case_id)
    require_command(ctx.principal, command.trigger, case)
    if case.version != expected_version:
        raise VersionMismatch(
            f"the case is at version {case.version}, not {expected_version}; "
            "fetch it again and retry",
            current_version=case.version,
        )
    rulebook = ctx.rulebooks.get(case.rulebook_id, case.rulebook_version)
    proposed = {**case_facts(case), **command.facts()}
    moved = machine.fire(rulebook, case.state, proposed, command.trigger)
    command.check_dates(proposed, ctx.today)
    if isinstance(command, CommissionReviewer) and command.reviewer_username:
        assignments.assign_reviewer(session, case, command.reviewer_username, ctx.now)
    record = _record(command)
    update_case(
        session,
        case,
        {
            **command.facts(),
            "state": moved.to_state,
            "stage": rulebook.state(moved.to_state).stage,
            "version": case.version + 1,
            "updated_at": ctx.now,
            "details": {**case.details, command.record_key(): record},
        },
    )
    add_timeline_event(
        session, case, command.trigger, moved.from_state, moved.to_state, record, ctx
    )
    _record_pauses(session, ctx, rulebook, case, command)
    audit_ok(session, ctx, partnership.code, case, command.trigger)
    notify_state_change(session, ctx, case, moved.from_state)
    session.flush()
    if isinstance(command, ReceiveFinalReport):
        action_plan.create_recommendations(session, case, command.recommendations, ctx.now)
    current = clock.refresh(session, ctx, rulebook, case)
    changed = list(command.facts())
    clock.refuse_missed(rulebook, current, changed, moved.from_state)
    return Executed(case, clock.met_late(rulebook, current, changed), current)


def _record_pauses(
    session: Session, ctx: Context, rulebook: Rulebook, case: Case, command: Command
) -> None:
    """Deferring publication for parallel proceedings pauses every pausable deadline
    (e.g. the 6-month LCSPR target); resuming restarts them (Working Together 2023 ch.5)."""
    kind: AdjustmentKind
    if isinstance(command, DeferPublication):
        kind, when = "pause", command.deferred_date
        reason = "publication deferred for " + ", ".join(command.proceedings)
    elif isinstance(command, ResumePublication):
        kind, when, reason = "resume", command.resumed_date, command.reason
    else:
        return
    for deadline in rulebook.deadlines:
        if deadline.pausable:
            clock.record_adjustment(
                session, ctx, case, Adjustment(deadline.name, kind, when, reason, ctx.actor)
            )


def _record(command: Command) -> dict[str, Any]:
    return command.model_dump(mode="json")
