"""Signing a test client in to the web dashboard as a browser does: open the sign-in
page (its CSRF token and pre-session cookie), then post the username and password.
Test users get a password through `give_password` (World users have none)."""

from __future__ import annotations

import re
from datetime import datetime
from functools import cache

import httpx
from fastapi.testclient import TestClient

from tests.support.factories import NOW
from workflow.access import accounts, passwords
from workflow.storage.database import Database
from workflow.storage.models import UserPassword

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')
PASSWORD = "a test passphrase nobody uses"  # every test user's password


def csrf_of(html: str) -> str:
    """The CSRF token of the (first) form of a page."""
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


@cache
def _hash_of(password: str) -> str:
    return passwords.hash_password(password)  # Argon2 is slow on purpose: once a run


def give_password(
    database: Database, username: str, password: str = PASSWORD, now: datetime = NOW
) -> str:
    """Store `password` as the user's (its Argon2id hash, made once a run) and return
    the username; `passwords.set_password` is what the product calls, tested itself."""

    def run(s):  # type: ignore[no-untyped-def]
        user = accounts.get_user(s, username)
        row = s.get(UserPassword, user.id)
        if row is None:
            s.add(UserPassword(user_id=user.id, password_hash=_hash_of(password), changed_at=now))
        else:
            row.password_hash, row.changed_at = _hash_of(password), now

    database.write(run)
    return username


def sign_in(
    client: TestClient,
    username: str,
    password: str = PASSWORD,
    *,
    next_path: str | None = None,
    **headers: str,
) -> httpx.Response:
    """POST /session from the sign-in page, not following the redirect."""
    page = client.get("/session")
    data = {"username": username, "password": password, "csrf_token": csrf_of(page.text)}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/session", data=data, headers=headers, follow_redirects=False)


def sign_in_as(
    client: TestClient, database: Database, username: str, **headers: str
) -> httpx.Response:
    """Give the user the test password and sign in with it."""
    return sign_in(client, give_password(database, username), PASSWORD, **headers)


def sign_out(client: TestClient) -> httpx.Response:
    """POST /session/end from the dashboard's sign-out button."""
    home = client.get("/")
    data = {"csrf_token": csrf_of(home.text)}
    return client.post("/session/end", data=data, follow_redirects=False)
