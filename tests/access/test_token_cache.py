"""The authenticated-token cache: bounded, short-lived, invalidated by changes
committed in this process, and revocation elsewhere bounded by its TTL."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.support.factories import NOW
from tests.support.world import ADMIN, World
from workflow.access import accounts
from workflow.access.principal import Principal
from workflow.access.token_cache import TokenCache, generation, invalidate_all
from workflow.storage.database import Database
from workflow.storage.models import ApiToken


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


def principal(name: str = "u") -> Principal:
    return Principal(user_id=uuid.uuid4(), username=name, grants=())


def test_an_entry_lives_for_the_ttl_only() -> None:
    clock = FakeClock()
    cache = TokenCache(ttl_seconds=10, clock=clock)
    who = principal()
    cache.put("k", who, None, generation())
    clock.t += 9.9
    assert cache.get("k", NOW) is who
    clock.t += 0.1
    assert cache.get("k", NOW) is None
    assert len(cache) == 0


def test_the_tokens_own_expiry_is_checked_on_every_hit() -> None:
    cache = TokenCache(ttl_seconds=60, clock=FakeClock())
    cache.put("k", principal(), NOW + timedelta(seconds=5), generation())
    assert cache.get("k", NOW + timedelta(seconds=4)) is not None
    assert cache.get("k", NOW + timedelta(seconds=5)) is None


def test_the_cache_is_bounded_least_recently_used_first() -> None:
    cache = TokenCache(ttl_seconds=60, max_entries=2, clock=FakeClock())
    for key in ("a", "b"):
        cache.put(key, principal(key), None, generation())
    assert cache.get("a", NOW) is not None  # "b" is now the least recently used
    cache.put("c", principal("c"), None, generation())
    assert len(cache) == 2
    assert cache.get("b", NOW) is None
    assert cache.get("a", NOW) is not None
    assert cache.get("c", NOW) is not None


def test_a_new_generation_drops_entries_and_refuses_stale_lookups() -> None:
    cache = TokenCache(ttl_seconds=60, clock=FakeClock())
    seen = generation()
    cache.put("a", principal(), None, seen)
    invalidate_all()
    assert cache.get("a", NOW) is None
    cache.put("b", principal(), None, seen)  # looked up before the change committed
    assert cache.get("b", NOW) is None


def test_a_zero_ttl_turns_the_cache_off() -> None:
    cache = TokenCache(ttl_seconds=0)
    cache.put("a", principal(), None, generation())
    assert cache.get("a", NOW) is None


def test_keys_are_token_hashes_never_tokens() -> None:
    assert TokenCache.key("crt_secret") == accounts.hash_token("crt_secret")
    assert "crt_secret" not in TokenCache.key("crt_secret")


def _cache_of(app: FastAPI) -> TokenCache:
    cache: TokenCache = app.state.services.tokens
    return cache


def test_a_change_committed_in_this_process_applies_at_once(
    app: FastAPI, raw: TestClient, world: World, database: Database
) -> None:
    viewer = world.auth("alpha", "viewer")
    assert raw.get("/api/v1/me", headers=viewer).status_code == 200
    assert len(_cache_of(app)) == 1

    def revoke(s: Any) -> None:
        user = accounts.get_user(s, "alpha-viewer")
        token = s.query(ApiToken).filter(ApiToken.user_id == user.id).one()
        accounts.revoke_token(s, token.id, NOW, by=ADMIN)

    database.write(revoke)
    assert raw.get("/api/v1/me", headers=viewer).status_code == 401
    # a role removed through the ORM is seen by the next request too
    notifier = world.auth("beta", "notifier")
    assert raw.get("/api/v1/me", headers=notifier).json()["memberships"] != []
    database.write(
        lambda s: accounts.revoke_role(
            s,
            accounts.get_user(s, "beta-notifier"),
            accounts.get_partnership(s, "beta"),
            "notifier",
            now=NOW,
            by=ADMIN,
        )
    )
    assert raw.get("/api/v1/me", headers=notifier).json()["memberships"] == []


def test_a_revocation_by_another_process_applies_within_the_ttl(
    app: FastAPI, raw: TestClient, world: World, database: Database
) -> None:
    viewer = world.auth("alpha", "viewer")
    assert raw.get("/api/v1/cases", headers=viewer).status_code == 200
    clock = FakeClock()
    cache = _cache_of(app)
    cache.clock = clock
    cache.put(  # restamp the entry on the fake clock
        cache.key(world.token("alpha", "viewer")),
        world.principals[("alpha", "viewer")],
        None,
        generation(),
    )
    # SQL that bypasses this process's ORM: what the CLI or another worker does
    with database.engine.begin() as conn:
        conn.execute(update(ApiToken).values(revoked_at=NOW))
    assert raw.get("/api/v1/cases", headers=viewer).status_code == 200  # within the TTL
    clock.t += cache.ttl
    assert raw.get("/api/v1/cases", headers=viewer).status_code == 401
