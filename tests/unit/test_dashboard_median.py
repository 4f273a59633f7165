"""The dashboard's medians are counted per distinct (start, end) pair, then taken
from the counts: the same figure as `statistics.median` over every case."""

from __future__ import annotations

import random
import statistics
from collections import Counter

import pytest

from workflow.reads.dashboard import weighted_median


def test_empty_has_no_median() -> None:
    assert weighted_median(Counter()) is None


@pytest.mark.parametrize(
    "values",
    [[3], [1, 2], [5, 1, 1], [2, 2, 9, 9], [0, 7, 7, 7, 40], [4, 1, 3, 2]],
)
def test_small_multisets(values: list[int]) -> None:
    assert weighted_median(Counter(values)) == float(statistics.median(values))


def test_random_multisets_match_statistics_median() -> None:
    rng = random.Random(20261126)
    for _ in range(500):
        values = [rng.randint(0, 60) for _ in range(rng.randint(1, 80))]
        assert weighted_median(Counter(values)) == float(statistics.median(values)), values


def test_the_open_actions_index_names_exactly_the_open_statuses() -> None:
    """The partial index's condition (models) must follow the service's open statuses,
    or the dashboard's open-action counts would stop using it."""
    from workflow.cases.action_plan import OPEN_STATUSES
    from workflow.storage.models.plan import OPEN_WHERE

    listed = OPEN_WHERE.split("(", 1)[1].rstrip(")")
    assert [s.strip().strip("'") for s in listed.split(",")] == list(OPEN_STATUSES)
