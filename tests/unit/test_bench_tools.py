"""The benchmark's own logic (bench/): generated rows are consistent, the table renders.
Benchmarks themselves are not tests (`make bench`)."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime

from bench.datagen import PATH, _case_rows
from bench.harness import WrkResult, pool
from bench.table import growth, render, throughput

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)


def test_generated_cases_are_consistent_with_their_stage() -> None:
    rng = random.Random(3)
    states = set()
    for _ in range(400):
        rows = _case_rows(rng, uuid.uuid4(), NOW.date(), NOW, late=rng.random() < 0.2)
        (case,) = rows["case"]
        states.add(case["state"])
        reached = [s for s, _g, _f in PATH].index(case["state"])
        assert case["version"] == reached + 1 == len(rows["event"])
        assert [e["sequence"] for e in rows["event"]] == list(range(1, case["version"] + 1))
        assert rows["event"][-1]["to_state"] == case["state"]
        for fact in (f for _s, _g, facts in PATH[1 : reached + 1] for f in facts):
            assert case[fact] is not None
            assert case[fact] >= case["aware_date"]
        for d in rows["deadline"]:
            assert (d["state"] == "met") == (d["met_date"] is not None)
        assert bool(rows["action"]) == (reached >= 9)
        assert rows["theme"]
    assert {"closed", "action_plan_monitoring", "review_in_progress"} <= states


def test_the_table_shows_ratios_and_targets() -> None:
    fast = WrkResult(rps=1000, p50_ms=1, p99_ms=2, requests=10_000, bad=0, errors=0, cpu_ms=0.4)
    slow = WrkResult(rps=400, p50_ms=1.2, p99_ms=2.5, requests=4_000, bad=3, errors=0, cpu_ms=1.2)
    rows = [
        throughput("polling", "304", "sqlite", slow, fast, 0.5),
        growth("case list", "postgresql", fast, slow, "100k"),
    ]
    text = render(rows)
    lines = text.splitlines()
    assert len(lines) == 4
    assert len({len(line) for line in lines}) == 1  # aligned columns
    assert "| 0.40  |" in lines[2]
    assert "| NO " in lines[2]
    assert "3 bad" in lines[2]
    assert "| 1.20  |" in lines[3]
    assert "| yes " in lines[3]


def test_pooled_slices_add_up() -> None:
    a = WrkResult(rps=100, p50_ms=1, p99_ms=5, requests=300, bad=1, errors=0, cpu_ms=2.0)
    b = WrkResult(rps=200, p50_ms=1, p99_ms=3, requests=600, bad=0, errors=2, cpu_ms=1.0)
    pooled = pool([a, b])
    assert pooled.rps == 150
    assert pooled.requests == 900
    assert (pooled.bad, pooled.errors) == (1, 2)
    assert abs(pooled.cpu_ms - (600 + 600) / 900) < 1e-9
