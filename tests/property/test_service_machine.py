"""Stateful property test of the workflow through the service layer, on SQLite and
PostgreSQL: random sequences of valid and invalid commands, several cases, roles,
rulebooks (including the historic SCR regime) and dates, with the invariants checked
after every step (tests/property/service_machine.py, docs/property-tests.md)."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)

from tests.property import bodies, profiles
from tests.property.expect import opening_is_valid
from tests.property.service_machine import REACHED, REASONS, ServiceWorld
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database

# Weighted by repetition: mostly the roles that run the process.
COMMAND_ACTORS = st.sampled_from(
    ["review_group"] * 5 + ["notifier"] * 2 + ["reviewer", "viewer", "action_owner", "outsider"]
)
OPENING_ACTORS = st.sampled_from(["notifier"] * 4 + ["review_group", "viewer"])
REGIMES = ("england-2023", "england-scr-2015", "england-panel-2025", "england-2018")
MOVES = st.tuples(st.integers(0, 5), bodies.OFFSETS, st.integers(0, 4))  # pick, offset, variant
RARELY = st.integers(0, 9).map(lambda n: n == 0)
SOMETIMES = st.integers(0, 3).map(lambda n: n == 0)
pytestmark = pytest.mark.timeout(profiles.timeout_seconds())
STATS: dict[str, int] = {"examples": 0, "steps": 0, "successes": 0, "refusals": 0}


class ServiceMachine(RuleBasedStateMachine):
    cases = Bundle("cases")

    def __init__(self, database: Database, rulebooks: RulebookRegistry) -> None:
        super().__init__()
        self.world = ServiceWorld(database, rulebooks)
        STATS["examples"] += 1

    @initialize(
        target=cases,
        rulebook=st.sampled_from(REGIMES),
        moves=st.lists(MOVES, max_size=10),
    )
    def first_case(self, rulebook: str, moves: list[tuple[int, int, int]]) -> uuid.UUID:
        """Every example starts with a serious incident under one of the rulebooks (the
        historic ones with a date in their window), moved on by up to 10 commands the
        rulebook offers."""
        world = self.world
        aware = min(world.today, world.rulebooks.get(rulebook).effective_to or world.today)
        body = bodies.incident_body(rulebook, aware - timedelta(days=10), 1, 0, "first")
        case_id = world.open("notifier", body, True)
        assert case_id is not None
        self._drive(case_id, moves)
        return case_id

    @rule(
        target=cases,
        actor=OPENING_ACTORS,
        rulebook=st.sampled_from(bodies.RULEBOOK_CHOICES),
        back=bodies.BACK_DAYS,
        gap=st.sampled_from([0, 0, 1, 3, -1]),
        criteria=st.integers(0, len(bodies.CRITERIA) - 1),
    )
    def log_incident(
        self, actor: str, rulebook: str | None, back: int, gap: int, criteria: int
    ) -> object:
        REASONS["rule log_incident"] += 1
        world = self.world
        latest = world.today
        if rulebook in ("england-2018", "england-scr-2015"):
            latest = world.rulebooks.get(rulebook).effective_to or latest
        aware = latest - timedelta(days=back)
        body = bodies.incident_body(rulebook, aware, gap, criteria, f"r{back}")
        valid = opening_is_valid(actor, rulebook, aware, gap, world.today)
        case_id = world.open(actor, body, valid)
        return multiple() if case_id is None else case_id

    @rule(
        case=cases,
        trigger=st.sampled_from(bodies.TRIGGERS),
        actor=COMMAND_ACTORS,
        offset=bodies.OFFSETS,
        variant=bodies.VARIANTS,
        stale=RARELY,
        replay=SOMETIMES,
    )
    def command(
        self,
        case: uuid.UUID,
        trigger: str,
        actor: str,
        offset: int,
        variant: int,
        stale: bool,
        replay: bool,
    ) -> None:
        REASONS["rule command"] += 1
        self.world.command(case, trigger, actor, offset, variant, stale, replay)

    @rule(case=cases, moves=st.lists(MOVES, min_size=1, max_size=8))
    def drive(self, case: uuid.UUID, moves: list[tuple[int, int, int]]) -> None:
        """Up to 8 commands the rulebook offers from the case's state, each by the role
        that runs it: the process moving on (dates and options may still be refused).
        Every invariant is checked after each of them."""
        REASONS["rule drive"] += 1
        self._drive(case, moves)

    def _drive(self, case: uuid.UUID, moves: list[tuple[int, int, int]]) -> None:
        for pick, offset, variant in moves:
            seen = self.world.see(case)
            if seen.state == "action_plan_monitoring" and pick == 5:
                self.world.complete_plan(case)
            offered = self.world.rulebooks.get(*seen.rulebook).triggers_from(seen.state)
            offered = [t for t in offered if t in bodies.TRIGGERS]
            if not offered or seen.state == "closed":
                return
            trigger = offered[pick % len(offered)]
            actor = "notifier" if trigger == "record_notification" else "review_group"
            self.world.command(case, trigger, actor, max(offset, 0), variant, False, False)
            STATS["steps"] += 1
            self.world.check()

    @rule(case=cases)
    def complete_action_plan(self, case: uuid.UUID) -> None:
        REASONS["rule complete_action_plan"] += 1
        if self.world.see(case).state == "action_plan_monitoring":
            self.world.complete_plan(case)

    @rule(
        target=cases,
        sources=st.lists(cases, min_size=2, max_size=3, unique=True),
        back=st.sampled_from([0, 3, 30, -2]),
    )
    def thematic_review(self, sources: list[uuid.UUID], back: int) -> object:
        REASONS["rule thematic_review"] += 1
        case_id = self.world.thematic(sources, back)
        return multiple() if case_id is None else case_id

    @rule(days=st.sampled_from([1, 2, 3, 5, 8, 20, 60]))
    def time_passes(self, days: int) -> None:
        REASONS["rule time_passes"] += 1
        self.world.now += timedelta(days=days)

    @invariant()
    def workflow_invariants(self) -> None:
        STATS["steps"] += 1
        self.world.check()

    def teardown(self) -> None:
        STATS["successes"] += self.world.successes
        STATS["refusals"] += self.world.refusals
        self.world.teardown()


def test_service_machine(database: Database, rulebooks: RulebookRegistry) -> None:
    for key in STATS:
        STATS[key] = 0
    REASONS.clear()
    REACHED.clear()
    run_state_machine_as_test(
        profiles.seeded(lambda: ServiceMachine(database, rulebooks)),
        settings=profiles.active(),
    )
    print(f"\nservice machine ({database.engine.dialect.name}): {STATS}")
    print(f"refusals: {dict(REASONS.most_common())}")
    print(f"states reached: {sorted(REACHED)}")
    assert STATS["successes"] > STATS["examples"], "the machine never moved a case on"
