"""pytest plugin: a PostgreSQL server for the whole test session.

Enable with ``pytest_plugins = ["tests.support.pg_plugin"]`` in the root conftest.

* ``pg_cluster`` (session fixture): a :class:`~tests.support.postgres.PostgresServer`;
  a :class:`~tests.support.postgres.ThrowawayCluster` started once and stopped at the end,
  or, when ``CASEREVIEW_TEST_PG_URL`` is set, that existing server.
  Without server binaries it skips the test, or fails it when ``CI=true``.
* Tests that use ``pg_cluster`` get the ``postgres`` marker (``-m "not postgres"``).
* The terminal summary says whether PostgreSQL tests ran, on which version, or why not.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from types import FrameType
from typing import Any, NoReturn

import pytest

from tests.support.postgres import (
    ExistingServer,
    PostgresServer,
    PostgresUnavailable,
    ThrowawayCluster,
    find_pg_bindir,
)

URL_ENV = "CASEREVIEW_TEST_PG_URL"
FIXTURE = "pg_cluster"
MARKER = "postgres"
USED = "caserev_pg"  # user property / xdist worker output key

NOT_FOUND_CI = "PostgreSQL server binaries not found; .ci/run installs them"
NOT_FOUND_LOCAL = (
    "PostgreSQL server binaries not found: install them with "
    "`sudo apt-get install postgresql` (Debian/Ubuntu; the binaries land in "
    "/usr/lib/postgresql/<major>/bin, which is searched), or set CASEREVIEW_PG_BINDIR, "
    f"or point {URL_ENV} at a running server"
)


@dataclass(eq=False)
class _State:
    """Per-session bookkeeping; also a plugin object carrying the reporting hooks."""

    status: str = "unused"  # unused | ran | skipped | failed
    detail: str = ""
    failure_text: str = ""  # in the report of every test that could not get a server
    pg_tests: set[str] = field(default_factory=set)
    results: dict[str, str] = field(default_factory=dict)  # nodeid -> outcome, every test

    @pytest.hookimpl(tryfirst=True)  # before `-m` deselection looks at the markers
    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if FIXTURE in getattr(item, "fixturenames", ()):
                item.add_marker(MARKER)
            if item.get_closest_marker(MARKER) is not None:
                self.pg_tests.add(item.nodeid)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Under pytest-xdist this runs in the controller on the workers' reports, so
        # what marks a PostgreSQL test must travel in the report: its keywords (the
        # marker) or a user property (set when pg_cluster was reached dynamically).
        if report.when == "call" or (report.when == "setup" and not report.passed):
            outcome = "error" if report.when == "setup" and report.failed else report.outcome
            self.results[report.nodeid] = outcome
        if MARKER in report.keywords or (USED, True) in report.user_properties:
            self.pg_tests.add(report.nodeid)
        if not report.passed and self.failure_text and self.failure_text in report.longreprtext:
            self.pg_tests.add(report.nodeid)  # could not get a server, asked for dynamically

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        workeroutput = getattr(session.config, "workeroutput", None)
        if workeroutput is not None:  # an xdist worker: tell the controller how PG went
            workeroutput[USED] = {"status": self.status, "detail": self.detail}

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: object) -> None:
        """xdist controller: merge a worker's server status (failed > ran > skipped)."""
        worker = getattr(node, "workeroutput", {}).get(USED)
        if not worker or worker["status"] == "unused":
            return
        rank = {"unused": 0, "skipped": 1, "ran": 2, "failed": 3}
        if rank[worker["status"]] > rank[self.status]:
            self.status, self.detail = worker["status"], worker["detail"]

    @property
    def outcomes(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for nodeid in self.pg_tests:
            if nodeid in self.results:
                counts[self.results[nodeid]] = counts.get(self.results[nodeid], 0) + 1
        return counts

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        outcomes = self.outcomes
        counts = ", ".join(f"{n} {outcome}" for outcome, n in sorted(outcomes.items()))
        counts = f" ({counts})" if counts else ""
        if self.status == "ran":
            line = f"PostgreSQL tests ran{counts} on {self.detail}"
        elif self.status == "skipped":
            line = f"PostgreSQL tests SKIPPED{counts}: {self.detail}"
        elif self.status == "failed":
            line = f"PostgreSQL tests FAILED to get a server{counts}: {self.detail}"
        elif outcomes:
            line = f"PostgreSQL tests ran{counts}, none of them through the {FIXTURE} fixture"
        else:
            line = "PostgreSQL tests: none in this session needed PostgreSQL"
        terminalreporter.write_line(line, bold=self.status != "ran")


_STATE = pytest.StashKey[_State]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", f"{MARKER}: needs the throwaway PostgreSQL cluster")
    state = _State()
    config.stash[_STATE] = state
    config.pluginmanager.register(state, "caserev-pg-state")


class _SigtermAsInterrupt:
    """Turn SIGTERM into KeyboardInterrupt so fixtures and atexit stop the server."""

    def __init__(self) -> None:
        self._previous: Any = None

    def __enter__(self) -> None:
        in_main_thread = threading.current_thread() is threading.main_thread()
        if in_main_thread and signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
            self._previous = signal.signal(signal.SIGTERM, self._handle)

    @staticmethod
    def _handle(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    def __exit__(self, *exc: object) -> None:
        if self._previous is not None:
            signal.signal(signal.SIGTERM, self._previous)


def _give_up(state: _State, status: str, message: str) -> NoReturn:
    state.status = status
    state.detail = state.failure_text = message
    if status == "skipped":
        pytest.skip(message)
    pytest.fail(message, pytrace=False)


@pytest.fixture(autouse=True)
def _pg_usage_tracker(request: pytest.FixtureRequest) -> Iterator[None]:
    """Count tests that reach pg_cluster through request.getfixturevalue(), too."""
    yield
    if FIXTURE in request.fixturenames:
        request.config.stash[_STATE].pg_tests.add(request.node.nodeid)
        request.node.user_properties.append((USED, True))  # reaches an xdist controller


@pytest.fixture(scope="session")
def pg_cluster(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    """A PostgreSQL server for the session; make a database per test with create_database."""
    state = request.config.stash[_STATE]

    url = os.environ.get(URL_ENV)
    if url:
        server = ExistingServer(url)
        try:
            version = server.server_version
        except Exception as exc:
            _give_up(state, "failed", f"cannot use {URL_ENV} ({server.description}): {exc}")
        state.status, state.detail = "ran", f"PostgreSQL {version}, {server.description}"
        yield server
        return

    try:
        bindir = find_pg_bindir()
    except PostgresUnavailable as exc:  # CASEREVIEW_PG_BINDIR set but wrong: always loud
        _give_up(state, "failed", str(exc))
    if bindir is None:
        if os.environ.get("CI") == "true":
            _give_up(state, "failed", NOT_FOUND_CI)
        _give_up(state, "skipped", NOT_FOUND_LOCAL)

    cluster = ThrowawayCluster(bindir)
    with _SigtermAsInterrupt():
        try:
            cluster.start()
        except Exception as exc:
            state.failure_text = str(exc).splitlines()[0]
            state.status, state.detail = "failed", f"{bindir}: {state.failure_text}"
            raise
        try:
            state.status = "ran"
            state.detail = (
                f"PostgreSQL {cluster.server_version}, {cluster.description}, "
                f"started in {cluster.startup_seconds:.1f}s"
            )
            yield cluster
        finally:
            cluster.stop()
