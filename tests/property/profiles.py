"""Hypothesis settings for the property tests, chosen by HYPOTHESIS_PROFILE.

- `ci` (default): a fixed seed (derandomize), sized for the CI budget (~2 minutes for
  both machines on both databases on a 2-CPU machine).
- `long`: more and longer examples with a fresh random seed, printed so a failure can
  be replayed with PROPS_SEED=<seed>.

The profiles are applied to the state machines only (never loaded globally), so other
hypothesis tests keep their own settings.
"""

from __future__ import annotations

import os
import random
from collections.abc import Callable
from typing import Any, TypeVar

from hypothesis import HealthCheck, Phase, seed, settings

F = TypeVar("F", bound=Callable[..., Any])

_COMMON: dict[str, Any] = {
    "deadline": None,  # database round trips vary; time is not the property
    "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large],
    "print_blob": True,
    "database": None,  # no example database on disk: runs are reproduced by seed or blob
}
PROFILES: dict[str, settings] = {
    # examples per test (each test = one machine on one database) x steps per example
    "ci": settings(
        max_examples=int(os.environ.get("PROPS_CI_EXAMPLES", "12")),
        stateful_step_count=30,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        **_COMMON,
    ),
    "long": settings(max_examples=100, stateful_step_count=60, derandomize=False, **_COMMON),
}

# The HTTP machine is smaller: each step is several requests.
API_SIZES: dict[str, dict[str, Any]] = {
    "ci": {
        "max_examples": int(os.environ.get("PROPS_CI_API_EXAMPLES", "6")),
        "stateful_step_count": 20,
    },
    "long": {"max_examples": 40, "stateful_step_count": 40},
}


def api_sizes() -> dict[str, Any]:
    return API_SIZES[profile_name()]


def profile_name() -> str:
    name = os.environ.get("HYPOTHESIS_PROFILE", "ci")
    if name not in PROFILES:
        raise ValueError(f"HYPOTHESIS_PROFILE={name!r}: one of {', '.join(PROFILES)}")
    return name


def active(**overrides: Any) -> settings:
    """The selected profile, with per-machine overrides (e.g. fewer API examples)."""
    if os.environ.get("PROPS_SEED"):
        overrides.setdefault("derandomize", False)  # replaying a printed seed
    return settings(PROFILES[profile_name()], **overrides)


def seeded(factory: F) -> F:
    """Give a machine factory its seed: PROPS_SEED if set, else a fresh one under the
    `long` profile (printed), else none (the `ci` profile is derandomized)."""
    chosen = os.environ.get("PROPS_SEED")
    if chosen is None and profile_name() == "long":
        chosen = str(random.randrange(2**32))
    if chosen is None:
        return factory
    print(f"\nproperty tests: HYPOTHESIS_PROFILE={profile_name()} PROPS_SEED={chosen}")
    return seed(int(chosen))(factory)  # type: ignore[no-any-return]


def timeout_seconds() -> int:
    """pytest-timeout for one machine run: none under `long` (it runs for minutes)."""
    return 0 if profile_name() == "long" else 900
