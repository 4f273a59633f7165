"""Fixtures of the fuzz suite: one application per backend for the whole module, with
the test world's partnerships, and a schemathesis schema loaded from it in-process.

The database lives for the module (not per example): cases, actions and documents
the fuzzer creates stay, so later examples meet a realistic, growing state.

Environment (all optional; `make fuzz` sets them):
- CASEREVIEW_FUZZ_SEED: the seed (default: `seed` in schemathesis.toml); `random`
  picks a fresh one, printed so the run can be repeated.
- CASEREVIEW_FUZZ_EXAMPLES: examples per operation in the fuzzing phase.
- CASEREVIEW_FUZZ_STATEFUL_EXAMPLES: scenarios of the stateful phase.
- CASEREVIEW_FUZZ_ONLY: one operation, e.g. `POST /api/v1/incidents` (to reproduce).
- CASEREVIEW_FUZZ_BACKENDS: `sqlite` (default), `postgresql`, or both, comma separated.
"""

from __future__ import annotations

import json
import os
import random
import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from schemathesis.specs.openapi.schemas import OpenApiSchema
from sqlalchemy.orm import Session

from api.deps import get_now
from api.main import create_app
from config.settings import Settings
from tests.fuzz.checks import TALLY
from tests.support.db_plugin import BACKENDS
from tests.support.factories import NOW
from tests.support.world import ADMIN, ROLES, World, build_world
from workflow.access import accounts
from workflow.runtime import open_database

CONFIG_FILE = Path(__file__).parent / "schemathesis.toml"
AUTH_FILE_ENV = "CASEREVIEW_FUZZ_AUTH_FILE"
# Served as server-sent events for up to `max_seconds` (<= 600): an in-process client
# reads a stream to its end, so examples would take minutes each. tests/api/test_polling.py
# covers it; every other operation is fuzzed.
EXCLUDED_PATHS = ("/api/v1/changes/stream",)
# The clock is fixed (NOW), so the whole run is one rate-limit window: thousands of
# requests by `alpha` and hundreds of refused credentials (`ignored_auth`). The limits
# stay on, counting, but out of reach; test_rate_limits.py trips them on purpose.
UNREACHABLE_RATE_LIMITS = {"rate_limit_auth_failures": 10**9, "rate_limit_requests": 10**9}

if not hasattr(pytest.Function, "_nodeid"):
    # schemathesis 4.32's `from_fixture` renames the running item through `_nodeid`,
    # which pytest 9.2 no longer has (node ids are structured now). Reading falls back
    # to the public id; renaming is cosmetic, so it is dropped.
    pytest.Function._nodeid = property(  # type: ignore[attr-defined]
        lambda self: self.nodeid, lambda self, value: None
    )


@dataclass
class FuzzTarget:
    """The app under test and the two peers' bearer tokens."""

    app: FastAPI
    world: World
    tokens: dict[str, str]  # "alpha" / "beta" -> token with every partnership role
    backend: str


def fuzz_seed() -> int | None:
    """The seed from CASEREVIEW_FUZZ_SEED (`random`: a fresh one), else None (the file's)."""
    raw = os.environ.get("CASEREVIEW_FUZZ_SEED", "").strip()
    if not raw:
        return None
    if raw == "random":
        return random.SystemRandom().getrandbits(64)
    return int(raw)


def _env_int(name: str) -> int | None:
    raw = os.environ.get(name, "").strip()
    return int(raw) if raw else None


def fuzz_backends() -> list[Any]:
    """CASEREVIEW_FUZZ_BACKENDS (comma separated; default `sqlite`) among the suite's backends."""
    wanted = os.environ.get("CASEREVIEW_FUZZ_BACKENDS", "sqlite").replace(" ", "").split(",")
    return [b for b in BACKENDS if getattr(b, "values", (b,))[0] in wanted]


@pytest.fixture(scope="module", params=fuzz_backends())
def fuzz_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database of the module's own, copied from the session template."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path_factory.mktemp("fuzz") / "casereview.db"
        with sqlite3.connect(template) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        yield f"sqlite:///{target}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    template_name = request.getfixturevalue("pg_template")
    name = f"fuzz_{uuid.uuid4().hex[:12]}"
    cluster.create_database(name, template=template_name)
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture(scope="module")
def fuzz_target(fuzz_db_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FuzzTarget]:
    data_dir = tmp_path_factory.mktemp("fuzz-data")
    settings = Settings(database_url=fuzz_db_url, data_dir=data_dir, **UNREACHABLE_RATE_LIMITS)
    database = open_database(settings)
    try:
        world = build_world(database)
        tokens = database.write(_peer_tokens)
    finally:
        database.dispose()
    app = create_app(settings)
    app.dependency_overrides[get_now] = lambda: NOW
    backend = "postgresql" if fuzz_db_url.startswith("postgresql") else "sqlite"
    yield FuzzTarget(app=app, world=world, tokens=tokens, backend=backend)
    services = getattr(app.state, "services", None)  # the lifespan schemathesis started
    if services is not None:
        services.database.dispose()  # before the PostgreSQL database is dropped


def _peer_tokens(session: Session) -> dict[str, str]:
    """A user per peer partnership holding every partnership role, and its API token."""
    tokens = {}
    for code in ("alpha", "beta"):
        partnership = accounts.get_partnership(session, code)
        user = accounts.create_user(session, f"{code}-fuzz", f"{code} fuzz", NOW, by=ADMIN)
        for role in ROLES:
            accounts.grant_role(session, user, partnership, role, now=NOW, by=ADMIN)
        tokens[code] = accounts.create_token(session, user, "fuzz", NOW, by=ADMIN).secret
    return tokens


def load_config(auth_file: Path) -> schemathesis.Config:
    """schemathesis.toml, with the auth file of this run and the CASEREVIEW_FUZZ_* overrides."""
    os.environ[AUTH_FILE_ENV] = str(auth_file)
    try:
        config = schemathesis.Config.from_path(CONFIG_FILE)
    finally:
        del os.environ[AUTH_FILE_ENV]
    seed = fuzz_seed()
    project = config.projects.default
    if seed is not None:
        config.update(seed=seed, max_failures=None)
        project.generation.update(deterministic=False)
    examples = _env_int("CASEREVIEW_FUZZ_EXAMPLES")
    if examples is not None:
        project.generation.update(max_examples=examples)
    return config


def write_auth_file(path: Path, tokens: dict[str, str]) -> Path:
    """A Web Fuzzing Commons auth document naming the two peers."""
    document: dict[str, Any] = {
        "schemaVersion": "0.1.0",
        "auth": [
            {"name": code, "fixedHeaders": [{"name": "Authorization", "value": f"Bearer {token}"}]}
            for code, token in tokens.items()
        ],
    }
    path.write_text(json.dumps(document))
    return path


@pytest.fixture(scope="module")
def fuzz_schema(fuzz_target: FuzzTarget, tmp_path_factory: pytest.TempPathFactory) -> OpenApiSchema:
    auth_file = write_auth_file(
        tmp_path_factory.mktemp("fuzz-auth") / "auth.json", fuzz_target.tokens
    )
    config = load_config(auth_file)
    TALLY.peer_token = fuzz_target.tokens["beta"]
    TALLY.seed = config.seed
    schema = schemathesis.openapi.from_asgi("/openapi.json", fuzz_target.app, config=config)
    return select(schema)


def select(schema: Any) -> Any:
    """The operations to fuzz: all but EXCLUDED_PATHS, or CASEREVIEW_FUZZ_ONLY's one."""
    schema = schema.exclude(path=list(EXCLUDED_PATHS))
    only = os.environ.get("CASEREVIEW_FUZZ_ONLY", "").strip()  # e.g. "POST /api/v1/incidents"
    if only:
        method, _, path = only.partition(" ")
        schema = schema.include(method=method, path=path) if path else schema.include(path=only)
    return schema


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The seed (to reproduce the run) and how many examples each phase sent."""
    if TALLY.seed is None:
        return
    phases = ", ".join(f"{name} {n}" for name, n in sorted(TALLY.phases.items()))
    terminalreporter.write_line(
        f"fuzz: seed {TALLY.seed} (repeat: CASEREVIEW_FUZZ_SEED={TALLY.seed}); "
        f"{len(TALLY.operations)} operations; examples per phase: {phases}; "
        f"cross-partnership probes {TALLY.peer_probes}"
    )
    if TALLY.stateful_ok:
        done = ", ".join(f"{label} {n}" for label, n in TALLY.stateful_ok.most_common())
        terminalreporter.write_line(f"fuzz: stateful 2xx by operation: {done}")
