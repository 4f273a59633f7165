"""pytest plugin: a fresh, migrated database per test, on SQLite and on PostgreSQL.

The real migrations run once per session per backend into a template; each test
gets a copy (SQLite: the file is copied; PostgreSQL: CREATE DATABASE ...
TEMPLATE), so tests commit for real, see real concurrency and never share rows.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.deps import get_now
from api.main import create_app
from config.settings import Settings
from tests.support.factories import NOW
from tests.support.world import World, build_world
from workflow.core.rulebook import RulebookRegistry
from workflow.runtime import load_rulebooks, open_database
from workflow.storage import migrate
from workflow.storage.database import Database

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate.upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_template(pg_cluster: Any) -> str:
    name = "casereview_template"
    if pg_cluster.database_exists(name):
        pg_cluster.drop_database(name)
    pg_cluster.create_database(name)
    migrate.upgrade(pg_cluster.url(name))
    return name


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database of its own for this test."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path / "casereview.db"
        with sqlite3.connect(template) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        yield f"sqlite:///{target}"
        return
    cluster = request.getfixturevalue("pg_cluster")
    template_name = request.getfixturevalue("pg_template")
    name = f"t_{uuid.uuid4().hex[:16]}"
    cluster.create_database(name, template=template_name)
    try:
        yield cluster.url(name)
    finally:
        cluster.drop_database(name)


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    return Settings(database_url=db_url, data_dir=tmp_path)


@pytest.fixture
def rulebooks(settings: Settings) -> RulebookRegistry:
    return load_rulebooks(settings)


@pytest.fixture
def database(settings: Settings) -> Iterator[Database]:
    db = open_database(settings)
    yield db
    db.dispose()


@dataclass
class Clock:
    now: datetime = NOW


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def world(database: Database) -> World:
    return build_world(database)


@pytest.fixture
def app(settings: Settings, clock: Clock) -> FastAPI:
    application = create_app(settings)
    application.dependency_overrides[get_now] = lambda: clock.now
    return application


@pytest.fixture
def client(app: FastAPI, world: World) -> Iterator[TestClient]:
    """Signed in as `la.officer` (notifier and review group in partnership alpha)."""
    headers = {"Authorization": f"Bearer {world.officer_token}"}
    with TestClient(app, headers=headers) as test_client:
        yield test_client


@pytest.fixture
def raw(app: FastAPI) -> Iterator[TestClient]:
    """A client with no credentials; pass headers per request."""
    with TestClient(app) as test_client:
        yield test_client
