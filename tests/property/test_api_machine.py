"""Stateful property test through the HTTP API, on SQLite and PostgreSQL: commands with
If-Match and Idempotency-Key, stale ETags, replays of earlier requests and invalid
input, with the invariants read back from GET /cases/{id} and /timeline after every
step (tests/property/api_machine.py, docs/property-tests.md)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
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
from tests.property.api_machine import ApiWorld
from tests.property.expect import opening_is_valid
from tests.support.db_plugin import Clock
from tests.support.factories import NOW
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database

ACTORS = st.sampled_from(["review_group"] * 4 + ["notifier"] * 2 + ["viewer", "outsider"])
IF_MATCH = st.sampled_from(["current"] * 6 + ["stale", "none"])
SOMETIMES = st.integers(0, 2).map(lambda n: n == 0)
pytestmark = pytest.mark.timeout(profiles.timeout_seconds())
MOVES = st.tuples(st.integers(0, 5), bodies.OFFSETS, st.integers(0, 4), SOMETIMES)
STATS: dict[str, int] = {"examples": 0, "steps": 0, "successes": 0, "refusals": 0, "replays": 0}


class ApiMachine(RuleBasedStateMachine):
    cases = Bundle("cases")

    def __init__(
        self, http: TestClient, database: Database, rulebooks: RulebookRegistry, clock: Clock
    ) -> None:
        super().__init__()
        clock.now = NOW
        self.world = ApiWorld(http, database, rulebooks, clock)
        STATS["examples"] += 1

    @initialize(target=cases, moves=st.lists(MOVES, max_size=8))
    def first_case(self, moves: list[tuple[int, int, int, bool]]) -> str:
        """A serious incident under the current rulebook, moved on by up to 8 commands."""
        body = bodies.incident_body(None, self.world.today, 1, 0, "first")
        case_id = self.world.open("notifier", body, True, replay=False)
        assert case_id is not None
        self._drive(case_id, moves)
        return case_id

    @rule(
        target=cases,
        actor=st.sampled_from(["notifier"] * 3 + ["viewer"]),
        rulebook=st.sampled_from(bodies.RULEBOOK_CHOICES),
        back=bodies.BACK_DAYS,
        gap=st.sampled_from([0, 1, -1]),
        criteria=st.integers(0, len(bodies.CRITERIA) - 1),
        replay=SOMETIMES,
    )
    def log_incident(
        self, actor: str, rulebook: str | None, back: int, gap: int, criteria: int, replay: bool
    ) -> object:
        world = self.world
        latest = world.today
        if rulebook in ("england-2018", "england-scr-2015"):
            latest = world.rulebooks.get(rulebook).effective_to or latest
        aware = latest - timedelta(days=back)
        body = bodies.incident_body(rulebook, aware, gap, criteria, f"r{back}")
        valid = opening_is_valid(actor, rulebook, aware, gap, world.today)
        case_id = world.open(actor, body, valid, replay)
        return multiple() if case_id is None else case_id

    @rule(
        case=cases,
        trigger=st.sampled_from(bodies.TRIGGERS),
        actor=ACTORS,
        offset=bodies.OFFSETS,
        variant=bodies.VARIANTS,
        if_match=IF_MATCH,
        replay=SOMETIMES,
    )
    def command(
        self,
        case: str,
        trigger: str,
        actor: str,
        offset: int,
        variant: int,
        if_match: str,
        replay: bool,
    ) -> None:
        self.world.command(case, trigger, actor, offset, variant, if_match, replay)

    @rule(case=cases, moves=st.lists(MOVES, min_size=1, max_size=6))
    def drive(self, case: str, moves: list[tuple[int, int, int, bool]]) -> None:
        """Commands the API offers (allowed_actions) to the review group or notifier."""
        self._drive(case, moves)

    def _drive(self, case: str, moves: list[tuple[int, int, int, bool]]) -> None:
        for pick, offset, variant, replay in moves:
            offered = [
                (action, actor)
                for actor in ("review_group", "notifier")
                for action in self.world.get(case, actor).json()["allowed_actions"]
                if action in bodies.TRIGGERS
            ]
            if not offered:
                return
            trigger, actor = offered[pick % len(offered)]
            self.world.command(case, trigger, actor, max(offset, 0), variant, "current", replay)
            STATS["steps"] += 1
            self.world.check()

    @rule(pick=st.integers(0, 50))
    def replay_earlier_request(self, pick: int) -> None:
        self.world.replay_old(pick)

    @rule(days=st.sampled_from([1, 3, 7, 30]))
    def time_passes(self, days: int) -> None:
        self.world.clock.now += timedelta(days=days)

    @invariant()
    def api_invariants(self) -> None:
        STATS["steps"] += 1
        self.world.check()

    def teardown(self) -> None:
        for key in ("successes", "refusals", "replays"):
            STATS[key] += getattr(self.world, key)


def test_api_machine(
    app: FastAPI, database: Database, rulebooks: RulebookRegistry, clock: Clock
) -> None:
    for key in STATS:
        STATS[key] = 0
    with TestClient(app) as http:
        run_state_machine_as_test(
            profiles.seeded(lambda: ApiMachine(http, database, rulebooks, clock)),
            settings=profiles.active(**profiles.api_sizes()),
        )
    print(f"\napi machine ({database.engine.dialect.name}): {STATS}")
    assert STATS["successes"] > STATS["examples"], "the machine never moved a case on"
    assert STATS["replays"] > 0, "no request was replayed"
