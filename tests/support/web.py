"""Signing a test client in to the web dashboard as a browser does: open the sign-in
page (its CSRF token and pre-session cookie), then post the form."""

from __future__ import annotations

import re

import httpx
from fastapi.testclient import TestClient

_CSRF = re.compile(r'name="csrf_token" value="([^"]*)"')


def csrf_of(html: str) -> str:
    """The CSRF token of the (first) form of a page."""
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def sign_in(
    client: TestClient, token: str, *, next_path: str | None = None, **headers: str
) -> httpx.Response:
    """POST /session from the sign-in page, not following the redirect."""
    page = client.get("/session")
    data = {"token": token, "csrf_token": csrf_of(page.text)}
    if next_path is not None:
        data["next"] = next_path
    return client.post("/session", data=data, headers=headers, follow_redirects=False)


def sign_out(client: TestClient) -> httpx.Response:
    """POST /session/end from the dashboard's sign-out button."""
    home = client.get("/")
    data = {"csrf_token": csrf_of(home.text)}
    return client.post("/session/end", data=data, follow_redirects=False)
