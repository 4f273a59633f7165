"""A migrated PostgreSQL database with the test world's users, for the chaos run."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from config.settings import Settings
from tests.support.postgres import ThrowawayCluster
from tests.support.world import build_world
from workflow.runtime import open_database
from workflow.storage import migrate


def seed(url: str) -> str:
    """Migrate `url` (an empty database) and create the users; la.officer's token."""
    migrate.upgrade(url)
    database = open_database(Settings(database_url=url))
    try:
        return build_world(database).officer_token
    finally:
        database.dispose()


@contextmanager
def prepared_database(url: str | None) -> Iterator[tuple[str, str]]:
    """(database url, token): `url` seeded, or a throwaway cluster's new database."""
    if url is not None:
        yield url, seed(url)
        return
    with ThrowawayCluster() as cluster:
        cluster.create_database("chaos")
        chaos_url = cluster.url("chaos")
        yield chaos_url, seed(chaos_url)
