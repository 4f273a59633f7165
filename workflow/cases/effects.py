"""Named effects of commands: what a command does beyond its facts and stage record.

A command names its effects (`Command.effects`); the engine runs them, by name, after
the change is recorded and before the deadlines are recomputed, inside the change's
transaction. Like guards, they are a registry: the engine never asks what class a
command is.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from workflow.cases import action_plan, assignments, clock
from workflow.cases.change import CaseChange
from workflow.commands.base import Command
from workflow.commands.commissioning import CommissionReviewer, ReceiveFinalReport
from workflow.commands.publication import DeferPublication, ResumePublication
from workflow.core.deadlines import Adjustment, AdjustmentKind

Effect = Callable[[CaseChange, Any], None]


def assign_reviewer(change: CaseChange, command: CommissionReviewer) -> None:
    """The commissioned reviewer (when they have an account) may read the case."""
    if command.reviewer_username:
        assignments.assign_reviewer(
            change.session, change.case, command.reviewer_username, change.ctx.now
        )


def create_recommendations(change: CaseChange, command: ReceiveFinalReport) -> None:
    """The final report's recommendations, numbered 1..n, start the action plan."""
    action_plan.create_recommendations(
        change.session, change.case, command.recommendations, change.ctx.now
    )


def pause_pausable_deadlines(change: CaseChange, command: DeferPublication) -> None:
    """Deferring publication for parallel proceedings pauses every pausable deadline
    (e.g. the 6-month LCSPR target) (Working Together 2023 ch.5)."""
    reason = "publication deferred for " + ", ".join(command.proceedings)
    _adjust_pausable(change, "pause", command.deferred_date, reason)


def resume_paused_deadlines(change: CaseChange, command: ResumePublication) -> None:
    """Resuming a deferred publication restarts the paused deadlines."""
    _adjust_pausable(change, "resume", command.resumed_date, command.reason)


def _adjust_pausable(change: CaseChange, kind: AdjustmentKind, when: Any, reason: str) -> None:
    for deadline in change.rulebook.deadlines:
        if deadline.pausable:
            clock.record_adjustment(
                change.session,
                change.ctx,
                change.case,
                Adjustment(deadline.name, kind, when, reason, change.ctx.actor),
            )


EFFECTS: dict[str, Effect] = {
    "assign_reviewer": assign_reviewer,
    "create_recommendations": create_recommendations,
    "pause_pausable_deadlines": pause_pausable_deadlines,
    "resume_paused_deadlines": resume_paused_deadlines,
}


def run(change: CaseChange, command: Command) -> None:
    """Run the command's named effects in order (an unknown name is a programming
    error, caught by the registry's tests)."""
    for name in command.effects:
        EFFECTS[name](change, command)
