"""Pausing, resuming or extending one deadline of a case, with a reason and who
approved it. Recorded on the timeline like any change (the state stays)."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import ClassVar, Literal

from pydantic import Field
from sqlalchemy.orm import Session

from workflow.access.permissions import Perm
from workflow.cases import clock
from workflow.cases.change import CaseChange
from workflow.context import Context
from workflow.core.deadlines import Adjustment, DeadlineState
from workflow.core.errors import InvalidFacts
from workflow.core.inputs import CaseDate, Input
from workflow.core.rulebook import Rulebook
from workflow.storage.models import Case

EVENT_TYPE = "adjust_deadline"


class AdjustDeadline(Input):
    """Pause (e.g. parallel proceedings), resume, or extend (a new due date) a deadline."""

    multiline_fields: ClassVar[frozenset[str]] = frozenset({"reason"})
    deadline: str = Field(min_length=1, max_length=64, description="The deadline's name.")
    kind: Literal["pause", "resume", "extension"]
    effective_date: CaseDate = Field(
        description="Pause/resume: the day it takes effect. Extension: the new due date."
    )
    reason: str = Field(min_length=1, max_length=2_000)
    approved_by: str = Field(
        min_length=1, max_length=128, description="Who approved it (name and role)."
    )


def adjust_deadline(
    session: Session,
    ctx: Context,
    case_id: uuid.UUID,
    expected_version: int,
    command: AdjustDeadline,
) -> Case:
    with CaseChange.begin(session, ctx, case_id, expected_version, Perm.DEADLINE_ADJUST) as change:
        case, rulebook = change.case, change.rulebook
        rule = next((d for d in rulebook.deadlines if d.name == command.deadline), None)
        if rule is None:
            names = ", ".join(d.name for d in rulebook.deadlines)
            raise InvalidFacts(
                f"no deadline {command.deadline!r} in {rulebook.id} "
                f"v{rulebook.version}; one of: {names}",
                "deadline",
            )
        if command.kind != "extension" and not rule.pausable:
            raise InvalidFacts(
                f"deadline {rule.name!r} cannot be paused under this rulebook", "kind"
            )
        if command.kind != "extension" and command.effective_date > ctx.today:
            raise InvalidFacts(
                "a pause or resumption cannot be dated in the future", "effective_date"
            )
        _check_against_current(session, ctx, rulebook, case, command)
        change.record(EVENT_TYPE, command.model_dump(mode="json"))
        clock.record_adjustment(
            session,
            ctx,
            case,
            Adjustment(
                rule.name, command.kind, command.effective_date, command.reason, command.approved_by
            ),
        )
    return case


MAX_EXTENSION = timedelta(days=366)


def _check_against_current(
    session: Session, ctx: Context, rulebook: Rulebook, case: Case, command: AdjustDeadline
) -> None:
    """A met deadline stays as it was met: no adjustment can make a late one on time.
    An extension moves the due date later, by at most a year."""
    current = next(
        s for s in clock.statuses(session, ctx, rulebook, case) if s.name == command.deadline
    )
    if current.state is DeadlineState.MET:
        raise InvalidFacts(
            f"deadline {command.deadline!r} was met on {current.met_date}; "
            "a met deadline cannot be adjusted",
            "deadline",
        )
    if (
        command.kind == "extension"
        and current.due_date is not None
        and not (current.due_date < command.effective_date <= current.due_date + MAX_EXTENSION)
    ):
        raise InvalidFacts(
            f"an extension must move the due date ({current.due_date}) later, by at most a year",
            "effective_date",
        )
