"""Correcting recorded facts of a case, without rewriting its history.

`correct` is a change of the case like any other (a `CaseChange`: lock, visibility,
the permission of the command that recorded the record, If-Match, one version, one
timeline event `correction`, one audit record, deadlines recomputed from the
corrected facts). The original timeline entry is never touched: the correction's
event keeps the old and the new value of each field, the reason and the whole
corrected record; the case's stage record and facts take the corrected values.
So the old values stay readable on the timeline and in `GET .../corrections`.

The corrected record is re-checked by the same rules as when it was recorded, with
no second copy of them:
- the command's own model (field types, lengths, its validators);
- the declared date rules (`Command.check_dates`) of every record of the case against
  the corrected facts (a date order the correction breaks, in this or another record);
- the rulebook: the case's command history is replayed through the state machine with
  the corrected facts (workflow/core/machine.py, the same guards); a command that would
  then have been refused or led elsewhere than it did is a `HistoryConflict`.
Only what the correction makes newly wrong is refused: a rule that already failed
on the history as recorded (a record from before a rule existed) is not its fault.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from workflow.access.permissions import command as command_perm
from workflow.access.scoping import sees_personal_data, visible_case
from workflow.cases import clock
from workflow.cases.change import CaseChange
from workflow.commands.base import Command
from workflow.commands.correction import EVENT_TYPE, Correction, check_fields, command_of_record
from workflow.commands.registry import COMMANDS
from workflow.context import Context
from workflow.core import machine
from workflow.core.errors import CommandNotAllowed, HistoryConflict, InvalidFacts
from workflow.core.facts import ALL_FACTS
from workflow.core.rulebook import START, Rulebook
from workflow.storage import repository
from workflow.storage.models import Case, CaseEvent

__all__ = ["Corrected", "correct", "corrections_of"]


@dataclass(frozen=True)
class Corrected:
    case: Case
    warnings: list[str]  # deadlines the corrected facts meet late


@dataclass(frozen=True)
class _Step:
    """A command event of the timeline and its record as it stands now."""

    event: CaseEvent
    command: Command | None  # None: the record no longer validates (kept as recorded)


def correct(
    session: Session, ctx: Context, case_id: uuid.UUID, expected_version: int, body: Correction
) -> Corrected:
    """Apply `body` to the case at `expected_version`; see the module for the checks."""
    cls = command_of_record(body.record)
    check_fields(cls, body.changes)
    with CaseChange.begin(
        session, ctx, case_id, expected_version, command_perm(cls.trigger)
    ) as change:
        case = change.case
        steps = _steps(repository.timeline(session, case.id))
        target = next(
            (s for s in reversed(steps) if s.command and s.command.record_key() == body.record),
            None,
        )
        if target is None or target.command is None:
            raise InvalidFacts(f"the case has no {body.record} record to correct", "record")
        old = target.command.model_dump(mode="json")
        given = f"changes.{next(iter(body.changes))}" if len(body.changes) == 1 else "changes"
        new_command = _validated(cls, {**old, **body.changes}, given)
        new = new_command.model_dump(mode="json")
        diffs: list[dict[str, Any]] = [
            {"field": name, "old": old.get(name), "new": new.get(name)}
            for name in body.changes
            if old.get(name) != new.get(name)
        ]
        if not diffs:
            raise InvalidFacts("every value given is already the recorded one", "changes")
        where = f"changes.{diffs[0]['field']}" if len(diffs) == 1 else "changes"
        corrected = {id(target.event): new_command}
        facts = _fact_changes(change.rulebook, case, steps, corrected, where)
        _check_dates(ctx, case, steps, corrected, facts, where)
        columns: dict[str, Any] = {}
        if cls.trigger == "log_incident" and "local_reference" in body.changes:
            columns["local_reference"] = new.get("local_reference")
        payload = {
            "record": body.record,
            "command": cls.trigger,
            "corrects": target.event.sequence,
            "changes": diffs,
            "reason": body.reason,
            "corrected": new,
        }
        change.record(
            EVENT_TYPE,
            payload,
            {**facts, **columns, "details": {**case.details, body.record: new}},
        )
    warnings = clock.met_late(change.rulebook, change.deadlines, list(facts))
    return Corrected(case, warnings)


def corrections_of(
    session: Session, ctx: Context, case_id: uuid.UUID
) -> tuple[list[CaseEvent], bool]:
    """The case's correction events, oldest first, and whether the caller is shown their
    values and reasons (workflow/access/disclosure.py; then `record_read`)."""
    case = visible_case(session, ctx.principal, case_id)
    events = [e for e in repository.timeline(session, case_id) if e.event_type == EVENT_TYPE]
    return events, sees_personal_data(ctx.principal, case)


def _validated(cls: type[Command], record: dict[str, Any], given: str) -> Command:
    """The corrected record through the command's own model, a refusal naming the field
    (`given`, the field(s) corrected, for a rule across fields)."""
    try:
        return cls.model_validate(record)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first.get("loc", ()))
        field = f"changes.{loc}" if loc else given
        raise InvalidFacts(f"{loc or given}: {first['msg']}", field) from None


def _steps(events: Sequence[CaseEvent]) -> list[_Step]:
    """The command events, each with its record as last corrected (earlier corrections
    are part of the history a new one is checked against)."""
    latest: dict[int, dict[str, Any]] = {}
    for e in events:
        if e.event_type == EVENT_TYPE and isinstance(e.payload.get("corrected"), dict):
            latest[int(e.payload["corrects"])] = e.payload["corrected"]
    steps = []
    for e in events:
        cls = COMMANDS.get(e.event_type)
        if cls is None:
            continue
        try:
            steps.append(_Step(e, cls.model_validate(latest.get(e.sequence, e.payload))))
        except ValidationError:
            steps.append(_Step(e, None))
    return steps


def _replay(
    rulebook: Rulebook,
    case: Case,
    steps: Sequence[_Step],
    corrected: Mapping[int, Command],
) -> tuple[dict[str, Any], list[str | CommandNotAllowed]]:
    """The facts the command history sets, and per step the state it leads to with
    them (or the refusal), each fired from the state the timeline recorded."""
    commands = [corrected.get(id(s.event), s.command) for s in steps]
    settable = {k for c in commands if c is not None for k in c.facts()}
    settable |= {k for s in steps if s.command is not None for k in s.command.facts()}
    # Facts no command sets (counts of open actions, the thematic link) as they are now.
    facts: dict[str, Any] = {
        k: getattr(case, k) for k in ALL_FACTS if k not in settable and hasattr(case, k)
    }
    reached: list[str | CommandNotAllowed] = []
    for step, cmd in zip(steps, commands, strict=True):
        if cmd is not None:
            facts.update(cmd.facts())
        state, trigger = step.event.from_state or START, step.event.event_type
        try:
            reached.append(machine.fire(rulebook, state, facts, trigger).to_state)
        except CommandNotAllowed as refused:
            reached.append(refused)
    return {k: facts.get(k) for k in settable}, reached


def _fact_changes(
    rulebook: Rulebook,
    case: Case,
    steps: Sequence[_Step],
    corrected: Mapping[int, Command],
    where: str,
) -> dict[str, Any]:
    """The facts the correction changes (the history's facts with it, minus those
    without it); HistoryConflict when a step of the history becomes impossible."""
    before, reached_before = _replay(rulebook, case, steps, {})
    after, reached_after = _replay(rulebook, case, steps, corrected)
    for step, was, now in zip(steps, reached_before, reached_after, strict=True):
        recorded = step.event.to_state
        if was == recorded and now != recorded:
            outcome = f"would lead to {now}" if isinstance(now, str) else f"({now.detail})"
            raise HistoryConflict(
                f"with this correction, {step.event.event_type} (version "
                f"{step.event.sequence}) {outcome}, but the case went to {recorded}, so "
                f"its current state ({case.state}) could not have been reached",
                where,
            )
    return {k: v for k, v in after.items() if before.get(k) != v}


def _check_dates(
    ctx: Context,
    case: Case,
    steps: Sequence[_Step],
    corrected: Mapping[int, Command],
    facts: Mapping[str, Any],
    where: str,
) -> None:
    """Every record's declared date rules against the corrected facts; refuse what the
    correction breaks (a rule already broken by the history as recorded is not)."""
    now = {k: getattr(case, k) for k in ALL_FACTS if hasattr(case, k)}
    proposed = {**now, **facts}
    for step in steps:
        cmd = corrected.get(id(step.event), step.command)
        if cmd is None:
            continue
        try:
            cmd.check_dates(proposed, ctx.today)
        except InvalidFacts as exc:
            if step.command is not None and step.command is not cmd:
                field = f"changes.{exc.field}"
            else:
                if not _passes(step.command, now, ctx):
                    continue
                field = where
            raise InvalidFacts(f"the {cmd.record_key()} record: {exc.detail}", field) from None


def _passes(cmd: Command | None, facts: Mapping[str, Any], ctx: Context) -> bool:
    if cmd is None:
        return False
    try:
        cmd.check_dates(facts, ctx.today)
    except InvalidFacts:
        return False
    return True
