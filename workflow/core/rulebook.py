"""Load and validate rulebooks: the process as data.

A rulebook file (YAML under config/rulebooks/) declares states, transitions and
deadlines. It is validated when the application starts: an unknown state, an
unreachable state, a non-final state with no way out, an unknown guard, trigger
or fact stops start-up with every problem listed (`RulebookInvalid`).

The pseudo-state `start` is where a case is before its first command
(`log_incident`); it is never stored on a case.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workflow.core.calendar import Division
from workflow.core.errors import RulebookInvalid, UnknownRulebook
from workflow.core.nations import DEFAULT_NATION, Nation

START = "start"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class StateDef(_Strict):
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    stage: str
    description: str
    final: bool = False


class TransitionDef(_Strict):
    trigger: str
    source: tuple[str, ...] = Field(min_length=1)
    dest: str | None = None  # None: an internal transition that records facts only
    guards: tuple[str, ...] = ()


class DeadlineUnit(StrEnum):
    WORKING_DAYS = "working_days"
    CALENDAR_DAYS = "calendar_days"
    MONTHS = "months"


class DeadlineDef(_Strict):
    """One statutory or guidance deadline, counted from a recorded fact."""

    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    source: str  # the statute or guidance paragraph the rule comes from
    amount: int = Field(ge=0, le=3660)
    unit: DeadlineUnit
    direction: Literal["after", "before"] = "after"
    from_fact: str
    met_by_fact: str
    applies_in: tuple[str, ...] = Field(min_length=1)  # states in which it is live
    applies_if: str | None = None  # optional guard name: the deadline applies only if true
    calendar: str | None = None  # division; defaults to the rulebook's
    pausable: bool = False  # may be paused (e.g. publication deferred for proceedings)
    refuse_when_missed: bool = False  # the meeting command is refused, not just warned
    # "due_by": the met_by fact should happen on or before the date (the usual kind).
    # "earliest": it should NOT happen before the date (e.g. a published report stays
    # online at least 12 months: withdrawal is allowed from the date on).
    # "expectation": the guidance names the step but gives no number, so the amount is a
    # local, configurable expectation: shown as "expected by", never overdue, never red,
    # never refused and never counted by the overdue lists, dashboard or reminders.
    kind: Literal["due_by", "earliest", "expectation"] = "due_by"


class Rulebook(_Strict):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    version: int = Field(ge=1)
    title: str
    nation: Nation
    calendar: Division
    # The review's name under this rulebook when it differs from the nation's usual one
    # (config/nations.yaml), e.g. Wales's child practice reviews before the SUSR.
    review_name: str | None = None
    rapid_review_clock_start: Literal["aware_date", "notification_date"] = "aware_date"
    effective_from: date | None = None
    effective_to: date | None = None
    states: tuple[StateDef, ...]
    transitions: tuple[TransitionDef, ...]
    deadlines: tuple[DeadlineDef, ...] = ()

    @property
    def key(self) -> tuple[str, int]:
        return (self.id, self.version)

    def state(self, name: str) -> StateDef:
        for state in self.states:
            if state.name == name:
                return state
        raise KeyError(name)

    @property
    def final_states(self) -> frozenset[str]:
        return frozenset(s.name for s in self.states if s.final)

    def triggers_from(self, state: str) -> list[str]:
        """The distinct triggers with a transition out of `state`, in rulebook order."""
        seen: dict[str, None] = {}
        for t in self.transitions:
            if state in t.source:
                seen.setdefault(t.trigger, None)
        return list(seen)


def validate(
    rulebook: Rulebook,
    *,
    known_guards: Iterable[str],
    known_triggers: Iterable[str],
    known_facts: Iterable[str],
) -> list[str]:
    """Every consistency problem of `rulebook`, as sentences; empty when sound."""
    guards, triggers, facts = set(known_guards), set(known_triggers), set(known_facts)
    names = [s.name for s in rulebook.states]
    problems = [f"state {n!r} is declared twice" for n in set(names) if names.count(n) > 1]
    declared = set(names)
    if START in declared:
        problems.append(f"{START!r} is reserved for the state before the first command")
    for t in rulebook.transitions:
        where = f"transition {t.trigger!r}"
        problems += [
            f"{where} has unknown source state {s!r}"
            for s in t.source
            if s not in declared and s != START
        ]
        if t.dest is not None and t.dest not in declared:
            problems.append(f"{where} has unknown destination state {t.dest!r}")
        problems += [
            f"{where} names guard {g!r}, which the code does not define"
            for g in t.guards
            if g not in guards
        ]
        if t.trigger not in triggers:
            problems.append(f"{where}: no command in the code fires this trigger")
        problems += [
            f"{where} leaves final state {s!r}"
            for s in t.source
            if s in rulebook.final_states and t.dest is not None  # recording facts is fine
        ]
    if not any(START in t.source for t in rulebook.transitions):
        problems.append(f"no transition leaves {START!r}: a case could never be opened")
    reachable = _reachable(rulebook)
    problems += [f"state {n!r} is unreachable from {START!r}" for n in names if n not in reachable]
    for s in rulebook.states:
        exits = [
            t for t in rulebook.transitions if s.name in t.source and t.dest not in (None, s.name)
        ]
        if not s.final and not exits:
            problems.append(f"state {s.name!r} is not final and has no way out")
    for d in rulebook.deadlines:
        where = f"deadline {d.name!r}"
        problems += [
            f"{where} names unknown fact {f!r}"
            for f in (d.from_fact, d.met_by_fact)
            if f not in facts
        ]
        problems += [
            f"{where} applies in unknown state {s!r}" for s in d.applies_in if s not in declared
        ]
        if d.applies_if is not None and d.applies_if not in guards:
            problems.append(f"{where} names guard {d.applies_if!r}, which the code does not define")
        if d.kind == "expectation" and d.refuse_when_missed:
            problems.append(f"{where} is an expectation, which is never refused")
    return problems


def _reachable(rulebook: Rulebook) -> set[str]:
    seen, queue = {START}, deque([START])
    while queue:
        here = queue.popleft()
        for t in rulebook.transitions:
            if here in t.source and t.dest is not None and t.dest not in seen:
                seen.add(t.dest)
                queue.append(t.dest)
    return seen


def parse(data: Mapping[str, Any], origin: str) -> Rulebook:
    """Build a Rulebook from parsed file data; schema errors become RulebookInvalid."""
    try:
        return Rulebook.model_validate(data)
    except ValidationError as exc:
        problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        raise RulebookInvalid(origin, problems) from None


class RulebookRegistry:
    """The loaded rulebooks, by (id, version). Immutable after construction."""

    def __init__(
        self,
        rulebooks: Iterable[Rulebook],
        default_id: str,
        nation_defaults: Mapping[str, str] | None = None,
    ) -> None:
        """`default_id` is England's default; `nation_defaults` (nation -> rulebook id)
        the other nations'. A nation's default must be of that nation; one that is not
        loaded (a directory of English rulebooks only) is left out, and that nation's
        cases then take its rulebook in force, if any."""
        self._by_key = {rb.key: rb for rb in rulebooks}
        self.default_id = default_id
        if not any(k[0] == default_id for k in self._by_key):
            raise RulebookInvalid(default_id, ["the default rulebook is not loaded"])
        self.nation_defaults: dict[str, str] = {}
        for nation, rulebook_id in {**(nation_defaults or {}), DEFAULT_NATION: default_id}.items():
            book = next((rb for (i, _), rb in self._by_key.items() if i == rulebook_id), None)
            if book is not None and book.nation != nation:
                raise RulebookInvalid(
                    rulebook_id, [f"the default rulebook of {nation} is {book.nation}'s"]
                )
            if book is not None:
                self.nation_defaults[nation] = rulebook_id

    def get(self, rulebook_id: str, version: int | None = None) -> Rulebook:
        """The given version, or the latest version when `version` is None."""
        if version is not None:
            found = self._by_key.get((rulebook_id, version))
        else:
            versions = [rb for (i, _), rb in self._by_key.items() if i == rulebook_id]
            found = max(versions, key=lambda rb: rb.version) if versions else None
        if found is None:
            label = rulebook_id if version is None else f"{rulebook_id} v{version}"
            raise UnknownRulebook(f"no rulebook {label!r}; loaded: {', '.join(self.ids())}")
        return found

    def in_force(self, on: date, nation: str = DEFAULT_NATION) -> Rulebook:
        """The rulebook of `nation` governing a case whose clock starts `on`: the nation's
        default one if it was in force then, else its in-force one that took effect most
        recently."""
        latest = {rb.id: self.get(rb.id) for rb in self._by_key.values()}
        candidates = [
            rb
            for rb in latest.values()
            if rb.nation == nation
            and (rb.effective_from is None or rb.effective_from <= on)
            and (rb.effective_to is None or on <= rb.effective_to)
        ]
        if not candidates:
            raise UnknownRulebook(
                f"no {nation} rulebook was in force on {on}; name one of: {', '.join(self.ids())}"
            )
        default = latest.get(self.nation_defaults.get(nation, self.default_id))
        if default in candidates:
            return default
        return max(candidates, key=lambda rb: rb.effective_from or date.min)

    def vocabulary(self) -> dict[str, set[str]]:
        """Every state, stage and deadline name any loaded rulebook uses."""
        books = self._by_key.values()
        return {
            "state": {st.name for rb in books for st in rb.states},
            "stage": {st.stage for rb in books for st in rb.states},
            "deadline": {d.name for rb in books for d in rb.deadlines},
        }

    def ids(self) -> list[str]:
        return sorted({k[0] for k in self._by_key})

    def all(self) -> list[Rulebook]:
        return [self._by_key[k] for k in sorted(self._by_key)]


def load_directory(
    directory: Path,
    *,
    default_id: str,
    known_guards: Iterable[str],
    known_triggers: Iterable[str],
    known_facts: Iterable[str],
    nation_defaults: Mapping[str, str] | None = None,
) -> RulebookRegistry:
    """Load every *.yaml rulebook in `directory`, validate each, or raise RulebookInvalid."""
    guards, triggers, facts = list(known_guards), list(known_triggers), list(known_facts)
    loaded: list[Rulebook] = []
    for path in sorted(directory.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            data = yaml.safe_load(fh)
        if not isinstance(data, Mapping):
            raise RulebookInvalid(path.name, ["the file is not a mapping"])
        rulebook = parse(data, path.name)
        problems = validate(
            rulebook, known_guards=guards, known_triggers=triggers, known_facts=facts
        )
        if problems:
            raise RulebookInvalid(f"{rulebook.id} v{rulebook.version} ({path.name})", problems)
        if rulebook.key in {rb.key for rb in loaded}:
            raise RulebookInvalid(path.name, [f"{rulebook.id} v{rulebook.version} loaded twice"])
        loaded.append(rulebook)
    if not loaded:
        raise RulebookInvalid(str(directory), ["no rulebook files (*.yaml) found"])
    return RulebookRegistry(loaded, default_id, nation_defaults)
