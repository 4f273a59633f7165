"""A correction of a recorded fact: the input, and which fields may be corrected.

A correction names one stage record of a case (as keyed in the case's `records`:
`notification`, `decision`, `involvement.family_informed` ...), the fields of that
record to change with their new values (in the format of the command that recorded
it) and the reason. It is not a command of the rulebook: it fires no trigger and
never moves the state. Who may correct a record: whoever may record it (the
command's permission). Pure: no database, no web.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from workflow.commands.base import Command
from workflow.commands.registry import COMMANDS
from workflow.core.errors import InvalidFacts
from workflow.core.inputs import Input

EVENT_TYPE = "correction"
MAX_FIELDS = 20

# trigger -> field -> why it cannot be corrected. A field absent here is correctable.
# These set something up beyond the record and its facts (the case's rulebook and
# partnership, a reviewer's access, the action plan, deadline pauses), or name the
# record itself; correcting them would leave that behind, so another way is named.
NOT_CORRECTABLE: dict[str, dict[str, str]] = {
    "log_incident": {
        "rulebook": "a case keeps the rulebook it was opened under",
        "partnership": "a case stays in the partnership that logged it",
    },
    "open_thematic_review": {
        "rulebook": "a case keeps the rulebook it was opened under",
        "partnership": "a case stays in the partnership that opened it",
        "source_case_ids": "the links to the source cases were made when the review opened",
    },
    "commission_reviewer": {
        "reviewer_username": "it gave the reviewer's account access to the case; "
        "a partnership admin changes who has access",
    },
    "receive_final_report": {
        "recommendations": "they started the action plan; change the action plan instead",
    },
    "defer_publication": {
        "deferred_date": "it paused the deadlines; adjust the deadlines instead",
        "proceedings": "it paused the deadlines; adjust the deadlines instead",
    },
    "resume_publication": {
        "resumed_date": "it resumed the paused deadlines; adjust the deadlines instead",
        "reason": "it is the reason recorded with the resumed deadlines",
    },
    "record_involvement": {
        "milestone": "it names the record; record the right milestone instead",
    },
}


class Correction(Input):
    """Correct fields of one stage record: the corrected values become the current
    facts; the original entry stays on the timeline, next to the correction."""

    # The values are checked by the record's own command model, with its own
    # character policy (narrative fields may hold line breaks there).
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"changes", "reason"})

    record: str = Field(
        min_length=1,
        max_length=64,
        description="The stage record, as keyed in the case's `records`.",
        examples=["notification"],
    )
    changes: dict[str, Any] = Field(
        min_length=1,
        max_length=MAX_FIELDS,
        description="Field of the record -> its corrected value, as the command that "
        "recorded it takes it (dates as YYYY-MM-DD).",
        examples=[{"notification_date": "2025-03-06"}],
    )
    reason: str = Field(
        min_length=1,
        max_length=2_000,
        description="Why the recorded value was wrong (shown on the timeline).",
        examples=["The notification was sent on the 6th; the 7th was typed by mistake."],
    )


# section -> the command that writes it; a command keyed per item (involvement) also
# answers for "<section>.<item>".
_BY_SECTION: dict[str, type[Command]] = {c.section: c for c in COMMANDS.values()}


def command_of_record(record: str) -> type[Command]:
    """The command that writes the stage record `record`; InvalidFacts otherwise."""
    found = _BY_SECTION.get(record) or _BY_SECTION.get(record.split(".", 1)[0])
    if found is None:
        known = ", ".join(sorted(_BY_SECTION))
        raise InvalidFacts(f"no stage record is called {record[:64]!r}; one of: {known}", "record")
    return found


def correctable_fields(command: type[Command]) -> list[str]:
    """The fields of `command`'s record a correction may change, in model order."""
    refused = NOT_CORRECTABLE.get(command.trigger, {})
    return [name for name in command.model_fields if name not in refused]


def check_fields(command: type[Command], changes: dict[str, Any]) -> None:
    """Refuse a field the record does not have, or one that is not correctable."""
    refused = NOT_CORRECTABLE.get(command.trigger, {})
    for name in changes:
        field = f"changes.{name[:64]}"
        if name in refused:
            raise InvalidFacts(f"{name} cannot be corrected: {refused[name]}", field)
        if name not in command.model_fields:
            raise InvalidFacts(
                f"the {command.section} record has no field {name[:64]!r}; "
                f"correctable: {', '.join(correctable_fields(command))}",
                field,
            )
