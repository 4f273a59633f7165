"""Fire a rulebook trigger on a snapshot of a case: pure, no database.

The `transitions` library evaluates the rulebook. One Machine is built per
loaded rulebook and reused; each call fires the trigger's event on a throwaway
`_Subject` (state and facts only) and reads the result. A Machine is never
attached to an ORM row: `add_model` without `initial` would overwrite the stored
state, and trigger names would collide with columns.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

from transitions import EventData, Machine, MachineError

from workflow.core.errors import CommandNotAllowed, GuardRefused
from workflow.core.guards import GUARDS
from workflow.core.rulebook import START, Rulebook


@dataclass(frozen=True)
class Transition:
    """The outcome of a fired trigger; `to_state == from_state` for internal ones."""

    trigger: str
    from_state: str
    to_state: str


class _Subject:
    """The only object a Machine ever sees: a state and read-only facts."""

    def __init__(self, state: str, facts: Mapping[str, Any]) -> None:
        self.state = state
        self.facts = facts


def _condition(guard_name: str) -> Any:
    check = GUARDS[guard_name].check

    def condition(event: EventData) -> bool:
        subject = cast(_Subject, event.model)
        return check(subject.facts)

    condition.__name__ = guard_name
    return condition


class _CompiledRulebook:
    def __init__(self, rulebook: Rulebook) -> None:
        self.rulebook = rulebook
        self._lock = threading.Lock()
        self._machine = Machine(
            model=None,
            states=[START, *(s.name for s in rulebook.states)],
            initial=START,
            transitions=[
                {
                    "trigger": t.trigger,
                    "source": list(t.source),
                    "dest": t.dest,  # None makes an internal transition in `transitions`
                    "conditions": [_condition(g) for g in t.guards],
                }
                for t in rulebook.transitions
            ],
            send_event=True,
            auto_transitions=False,
            ignore_invalid_triggers=False,
            model_attribute="state",
        )

    def fire(self, state: str, facts: Mapping[str, Any], trigger: str) -> Transition:
        subject = _Subject(state, facts)
        event = self._machine.events.get(trigger)
        fired: bool | None = None
        if event is not None:
            # The event fires on the subject without `add_model`: attaching a model
            # builds a bound method per trigger, which cost more than the transition.
            with self._lock:  # the machine's transition queue is shared
                try:
                    fired = bool(event.trigger(subject))
                except MachineError:
                    fired = None
        if fired is None:
            raise CommandNotAllowed(
                f"{trigger!r} is not allowed while the case is in state {state!r}",
                current_state=state,
                allowed_actions=self.rulebook.triggers_from(state),
            )
        if not fired:
            raise GuardRefused(
                f"{trigger!r} refused in state {state!r}: "
                + "; ".join(self.failed_guards(state, facts, trigger)),
                current_state=state,
                allowed_actions=self.rulebook.triggers_from(state),
            )
        return Transition(trigger, state, str(subject.state))

    def failed_guards(self, state: str, facts: Mapping[str, Any], trigger: str) -> list[str]:
        """Descriptions of the unmet rules on every candidate transition."""
        failed: list[str] = []
        for t in self.rulebook.transitions:
            if t.trigger == trigger and state in t.source:
                failed += [
                    f"requires that {GUARDS[g].description} ({g})"
                    for g in t.guards
                    if not GUARDS[g].check(facts)
                ]
        return failed or ["no transition applies"]


_COMPILED: dict[int, _CompiledRulebook] = {}
_COMPILED_LOCK = threading.Lock()
_MAX_COMPILED = 64


def _compiled(rulebook: Rulebook) -> _CompiledRulebook:
    """The machine of this rulebook object, built once. Keyed by identity: a loaded
    rulebook is immutable and the registry hands out the same object, while hashing
    the (frozen pydantic) rulebook per call cost more than firing. The entry holds the
    rulebook, so its id is not reused while cached."""
    found = _COMPILED.get(id(rulebook))
    if found is not None and found.rulebook is rulebook:
        return found
    with _COMPILED_LOCK:
        found = _COMPILED.get(id(rulebook))
        if found is None or found.rulebook is not rulebook:
            found = _CompiledRulebook(rulebook)
            if len(_COMPILED) >= _MAX_COMPILED:
                _COMPILED.pop(next(iter(_COMPILED)))
            _COMPILED[id(rulebook)] = found
        return found


def fire(rulebook: Rulebook, state: str, facts: Mapping[str, Any], trigger: str) -> Transition:
    """Apply `trigger` to a case in `state` whose facts (after the command) are `facts`.

    Returns the transition taken. Raises CommandNotAllowed when the trigger has no
    transition from `state`, GuardRefused when every candidate's guards failed.
    Never mutates anything it is given."""
    return _compiled(rulebook).fire(state, facts, trigger)


def allowed_triggers(rulebook: Rulebook, state: str) -> list[str]:
    """Triggers with a transition out of `state` (guards not evaluated)."""
    return rulebook.triggers_from(state)
