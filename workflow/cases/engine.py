"""Run a command against a case: the one path every rulebook command takes.

`open_case` and `execute_command` check the input against the case's facts, fire the
rulebook trigger on a snapshot (workflow.core.machine) and hand the result to a
`CaseChange` (workflow/cases/change.py), which checks the caller's rights and the
version and writes the new state, facts, stage record, version, one timeline event,
one audit record, the outbox message and the deadlines; then the command's named
effects run (workflow/cases/effects.py). They never commit; a DomainError leaves
the caller's transaction to roll back.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from workflow.access.permissions import command as command_perm
from workflow.access.scoping import partnership_for_new_case
from workflow.cases import clock, effects
from workflow.cases.change import CaseChange
from workflow.cases.opening import new_case, rulebook_for
from workflow.commands.base import Command
from workflow.commands.intake import LogIncident
from workflow.context import Context
from workflow.core import machine
from workflow.core.deadlines import DeadlineStatus
from workflow.core.errors import Forbidden, InvalidFacts
from workflow.core.facts import ALL_FACTS
from workflow.core.rulebook import Rulebook
from workflow.storage.models import Case

__all__ = ["Executed", "case_facts", "execute", "execute_command", "open_case"]


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
    with CaseChange.opening(session, ctx, case, partnership) as change:
        change.record(command.trigger, record)
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
    perm = command_perm(command.trigger)
    with CaseChange.begin(session, ctx, case_id, expected_version, perm) as change:
        case, rulebook = change.case, change.rulebook
        proposed = {**case_facts(case), **command.facts()}
        moved = machine.fire(rulebook, case.state, proposed, command.trigger)
        command.check_dates(proposed, ctx.today)
        record = _record(command)
        change.record(
            command.trigger,
            record,
            {
                **command.facts(),
                "state": moved.to_state,
                "stage": rulebook.state(moved.to_state).stage,
                "details": {**case.details, command.record_key(): record},
            },
        )
        effects.run(change, command)
    changed = list(command.facts())
    clock.refuse_missed(rulebook, change.deadlines, changed, moved.from_state)
    return Executed(case, clock.met_late(rulebook, change.deadlines, changed), change.deadlines)


def _record(command: Command) -> dict[str, Any]:
    return command.model_dump(mode="json")
