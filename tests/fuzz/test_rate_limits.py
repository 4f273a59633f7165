"""429 under every schemathesis check: an app whose rate limits are one request per
user and one refused credential per address, fuzzed with one example per operation.

After alpha's first request every authenticated request is over its limit, so
nearly every answer is a 429, and each must be what the schema documents for that
operation (status, problem+json, the `Retry-After` header, the body's schema). The
main suite (test_openapi_fuzz.py) keeps its limits out of reach instead."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from schemathesis import Case
from schemathesis.specs.openapi.schemas import OpenApiSchema

from api.deps import get_now
from api.main import create_app
from config.settings import Settings
from tests.fuzz.conftest import FuzzTarget, _peer_tokens, load_config, select, write_auth_file
from tests.support.factories import NOW
from tests.support.world import build_world
from workflow.runtime import open_database

schema = select(schemathesis.pytest.from_fixture("limited_schema"))


@pytest.fixture(scope="module")
def limited_target(
    fuzz_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[FuzzTarget]:
    settings = Settings(
        database_url=fuzz_db_url,
        data_dir=tmp_path_factory.mktemp("limited-data"),
        rate_limit_requests=1,
        rate_limit_auth_failures=1,
    )
    database = open_database(settings)
    try:
        world = build_world(database)
        tokens = database.write(_peer_tokens)
    finally:
        database.dispose()
    app = create_app(settings)
    app.dependency_overrides[get_now] = lambda: NOW  # one window for the whole module
    backend = "postgresql" if fuzz_db_url.startswith("postgresql") else "sqlite"
    yield FuzzTarget(app=app, world=world, tokens=tokens, backend=backend)
    services = getattr(app.state, "services", None)
    if services is not None:
        services.database.dispose()


@pytest.fixture(scope="module")
def limited_schema(
    limited_target: FuzzTarget, tmp_path_factory: pytest.TempPathFactory
) -> OpenApiSchema:
    auth_file: Path = write_auth_file(
        tmp_path_factory.mktemp("limited-auth") / "auth.json", limited_target.tokens
    )
    config = load_config(auth_file)
    project = config.projects.default
    project.phases.update(phases=["fuzzing"])
    project.generation.update(max_examples=1)
    loaded = schemathesis.openapi.from_asgi("/openapi.json", limited_target.app, config=config)
    return select(loaded)


@pytest.fixture(scope="module")
def statuses() -> Iterator[Counter[int]]:
    """The statuses of the run; checked after it (in the same process, whatever xdist
    does with the module's tests): the run did meet the limit, almost every answer was
    a 429 (the others: alpha's first request, the probes that take no credential,
    bodies refused before authentication)."""
    seen: Counter[int] = Counter()
    yield seen
    assert seen[429] > 40, seen
    assert seen[429] >= 0.8 * sum(seen.values()), seen


@pytest.mark.timeout(300)
@schema.parametrize()
def test_rate_limited_answers_conform(case: Case, statuses: Counter[int]) -> None:
    response = case.call_and_validate()
    statuses[response.status_code] += 1
