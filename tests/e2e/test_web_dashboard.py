"""The web dashboard: sessions and permissions (in-process, both databases), then a real
browser (Playwright + Debian's Chromium, headless) against a real server on loopback.

CASEREVIEW_SCREENSHOTS=1 writes docs/screenshots/{dashboard,case,rulebook}.png."""

from __future__ import annotations

import importlib.util
import os
import sqlite3
import subprocess
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.routes.commands import action_path
from api.web.session import COOKIE
from config.settings import Settings
from tests.e2e.test_walkthrough import CLI, ROOT, _free_port
from tests.support.factories import BODIES, LCSPR_PATH, incident, make_case
from tests.support.web import PASSWORD, csrf_of, give_password, sign_in, sign_in_as, sign_out
from tests.support.world import ADMIN, World
from workflow.access import accounts
from workflow.access.permissions import Role
from workflow.core.rulebook import RulebookRegistry
from workflow.runtime import open_database
from workflow.storage.database import Database

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SHOTS = ROOT / "docs" / "screenshots"


def _sign_in(client: TestClient, database: Database, username: str) -> None:
    response = sign_in_as(client, database, username)
    assert response.status_code == 303, response.text


def test_pages_need_a_session_kept_in_a_strict_cookie(
    raw: TestClient, world: World, database: Database
) -> None:
    first = raw.get("/", follow_redirects=False)
    assert first.status_code == 303
    assert first.headers["location"] == "/session?next=/"
    page = raw.get("/session")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert '<label class="govuk-label" for="username">' in page.text
    assert 'name="token"' not in page.text  # an API token is not the way in
    give_password(database, "la.officer")
    form = {"csrf_token": csrf_of(page.text)}
    wrong = raw.post(
        "/session",
        data=form
        | {"username": "la.officer", "password": "not it at all", "next": "https://evil.example"},
    )
    assert wrong.status_code == 400
    assert "Enter a correct username and password" in wrong.text
    assert "not it at all" not in wrong.text
    foreign = raw.post(
        "/session",
        data=form | {"username": "la.officer", "password": PASSWORD},
        headers={"Origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    assert COOKIE not in foreign.cookies

    signed = sign_in(raw, "la.officer", next_path="//evil")
    assert signed.headers["location"] == "/"
    cookie = next(c for c in signed.headers.get_list("set-cookie") if c.startswith(COOKIE))
    assert all(flag in cookie.lower() for flag in ("httponly", "samesite=strict", "path=/"))
    assert "secure" not in cookie.lower()  # plain http here; over https:
    page = raw.get("https://testserver/session")
    secure = raw.post(
        "https://testserver/session",
        data={"username": "la.officer", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        follow_redirects=False,
    )
    assert "secure" in secure.headers["set-cookie"].lower()
    home = raw.get("/")
    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")
    assert world.officer_token not in home.text
    assert "no-store" in home.headers["cache-control"]

    out = sign_out(raw)
    assert out.status_code == 303
    assert raw.get("/", follow_redirects=False).status_code == 303


def test_pages_follow_the_api_permissions(
    raw: TestClient, world: World, database: Database, rulebooks: RulebookRegistry
) -> None:
    assert world.officer is not None
    case_id = make_case(database, rulebooks, world.officer, "rapid_review")
    _sign_in(raw, database, world.username("beta", "review_group"))  # another partnership
    assert raw.get(f"/cases/{case_id}").status_code == 404
    assert raw.get(f"/cases/{case_id}/status.json").status_code == 404
    assert raw.get("/rulebooks/no-such-book").status_code == 404

    _sign_in(raw, database, world.username("alpha", "viewer"))  # no personal data
    page = raw.get(f"/cases/{case_id}")
    assert page.status_code == 200
    assert "Rapid review" in page.text
    assert "which your roles do not show" in page.text
    assert "Non-mobile infant" not in page.text
    assert "Child A" not in page.text

    _sign_in(raw, database, "la.officer")
    page = raw.get(f"/cases/{case_id}")
    assert "Non-mobile infant" in page.text
    status = raw.get(f"/cases/{case_id}/status.json")
    assert status.json() == {"version": 2, "state": "rapid_review"}
    assert status.headers["etag"] == '"2"'
    same = raw.get(f"/cases/{case_id}/status.json", headers={"If-None-Match": '"2"'})
    assert same.status_code == 304
    assert 'id="case-live"' in raw.get(f"/cases/{case_id}/fragment").text
    raw.cookies.clear()
    assert raw.get(f"/cases/{case_id}/status.json").status_code == 401


# --- the browser ---


def _chromium_or_skip() -> None:
    """Skip without the browser or Playwright, except under CI=true: fail there."""
    reason = "" if CHROMIUM.exists() else f"{CHROMIUM} is missing (apt-get install chromium)"
    if not reason and importlib.util.find_spec("playwright") is None:
        reason = "the playwright package is missing (pip install -e '.[dev]')"
    if reason:
        (pytest.fail if os.environ.get("CI") == "true" else pytest.skip)(reason)


class Api:
    def __init__(self, base: str, token: str) -> None:
        self.http = httpx.Client(
            base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def open(self, **fields: Any) -> tuple[str, int]:
        response = self.http.post("/api/v1/incidents", json=incident(**fields))
        assert response.status_code == 201, response.text
        return response.json()["id"], response.json()["version"]

    def fire(self, case_id: str, version: int, trigger: str, body: dict[str, Any]) -> int:
        """A command (`trigger`), or with no trigger an action of the plan; the new version."""
        path = f"/api/v1/cases/{case_id}/actions"
        path = action_path(uuid.UUID(case_id), trigger) if trigger else path
        response = self.http.post(path, json=body, headers={"If-Match": f'"{version}"'})
        assert response.status_code in (200, 201), response.text
        return int(response.json()["version"])


def _review_group_member(url: str) -> str:
    """A partnership, a member of its review group (also notifier) with the test password;
    their API token (the test's API calls use it)."""
    now = datetime.now(UTC)

    def run(s: Session) -> str:
        partnership = accounts.create_partnership(s, "northshire", "Northshire SCP", now, by=ADMIN)
        user = accounts.create_user(s, "sam.patel", "Sam Patel", now, by=ADMIN)
        for role in (Role.NOTIFIER, Role.REVIEW_GROUP):
            accounts.grant_role(s, user, partnership, role, now=now, by=ADMIN)
        return accounts.create_token(s, user, "browser test", now, by=ADMIN).secret

    database = open_database(Settings(database_url=url))
    try:
        token = database.write(run)
        give_password(database, "sam.patel")  # the browser signs in with it
        return token
    finally:
        database.dispose()


@pytest.fixture
def live_server(tmp_path: Path, sqlite_template: Path) -> Iterator[tuple[str, Api]]:
    """`casereview serve` on a free loopback port over a copy of the migrated SQLite."""
    with sqlite3.connect(sqlite_template) as src, sqlite3.connect(tmp_path / "c.db") as dst:
        src.backup(dst)
    env = {
        **os.environ,
        "CASEREVIEW_DATA_DIR": str(tmp_path),
        "CASEREVIEW_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}",
    }
    token = _review_group_member(env["CASEREVIEW_DATABASE_URL"])
    port = _free_port()
    with (tmp_path / "server.log").open("wb") as log:
        proc = subprocess.Popen(
            [*CLI, "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=log, stderr=log
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not become ready")
        yield base, Api(base, token)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _seed(api: Api) -> str:
    """Three cases: one overdue, one far along with an action plan, one just logged."""
    api.open(local_reference="NS-2025-007", aware_date="2025-03-03")
    case_id, version = api.open(local_reference="NS-2025-003")
    for trigger in LCSPR_PATH[:-1]:
        version = api.fire(case_id, version, trigger, BODIES[trigger])
    action = {"recommendation_number": 1, "description": "Refresh the bruising protocol"}
    owner = {"agency": "health_icb", "owner": "Designated nurse", "due_date": "2025-10-01"}
    api.fire(case_id, version, "", action | owner)  # the action plan
    aware = (date.today() - timedelta(days=1)).isoformat()
    new_id, _ = api.open(local_reference="NS-NEW-001", incident_date=aware, aware_date=aware)
    return new_id


# One h1, headings in order, a label for every input, alt on images, th with scope,
# one header / main / footer, a page language: the problems found, as text.
A11Y = """() => {
  const all = (q) => Array.from(document.querySelectorAll(q)), problems = [];
  if (all("h1").length !== 1) problems.push(all("h1").length + " h1");
  let level = 0;
  for (const h of all("h1, h2, h3, h4, h5, h6")) {
    if (Number(h.tagName[1]) > level + 1) problems.push("heading order: " + h.textContent);
    level = Number(h.tagName[1]);
  }
  for (const el of all("input:not([type=hidden]), select, textarea"))
    if (!el.labels.length && !el.getAttribute("aria-label")) problems.push("label: " + el.name);
  for (const el of all("img:not([alt])")) problems.push("alt: " + el.src);
  for (const el of all("th:not([scope])")) problems.push("scope: " + el.textContent);
  for (const tag of ["header", "main", "footer"])
    if (all(tag).length !== 1) problems.push("not one " + tag);
  if (!document.documentElement.lang) problems.push("no lang");
  return problems;
}"""


def _check_page(page: Any, shot: str | None = None) -> None:
    assert page.evaluate(A11Y) == [], page.url
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "govuk-skip-link"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"
    if shot and os.environ.get("CASEREVIEW_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        height = min(page.evaluate("document.documentElement.scrollHeight"), 1600)
        clip = {"x": 0, "y": 0, "width": 1280, "height": height}
        page.screenshot(path=str(SHOTS / f"{shot}.png"), full_page=True, clip=clip)


def test_a_browser_signs_in_and_sees_a_case_change_without_reloading(
    live_server: tuple[str, Api],
) -> None:
    _chromium_or_skip()
    from playwright.sync_api import expect, sync_playwright

    base, api = live_server
    new_id = _seed(api)
    errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on(
                "console",
                lambda m: errors.append(f"{m.text} {m.location}") if m.type == "error" else None,
            )
            page.goto(base + "/")
            assert page.url == base + "/session?next=/"
            _check_page(page)
            page.get_by_label("Username").fill("sam.patel")
            page.get_by_label("Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            expect(page.get_by_role("heading", name="What needs attention")).to_be_visible()
            expect(page.get_by_role("row", name="NS-2025-007").first).to_contain_text("overdue by")
            _check_page(page, "dashboard")

            page.get_by_role("link", name="NS-2025-003").first.click()
            expect(page.locator("#case-state")).to_have_text("Action plan monitoring")
            expect(
                page.get_by_role("rowheader", name="Refresh the bruising protocol")
            ).to_be_visible()
            _check_page(page, "case")

            page.goto(f"{base}/cases/{new_id}")
            expect(page.locator("#case-state")).to_have_text("Notification due")
            page.evaluate("window.notReloaded = true")
            body = {"notification_date": date.today().isoformat()}
            api.fire(new_id, 1, "record_notification", body)  # meanwhile, through the API
            expect(page.locator("#case-state")).to_have_text("Rapid review", timeout=15_000)
            expect(page.locator("#timeline")).to_contain_text("Record notification")
            expect(page.locator("#live-status")).to_contain_text("now Rapid review")
            assert page.evaluate("window.notReloaded") is True

            page.goto(base + "/rulebooks/england-2023")
            expect(page.get_by_role("row", name="Record notification").first).to_be_visible()
            expect(page.locator("pre")).to_contain_text("stateDiagram-v2")
            _check_page(page, "rulebook")

            page.get_by_role("button", name="Sign out").click()
            expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
            page.goto(base + "/")
            assert "/session" in page.url
        finally:
            browser.close()
    errors = [e for e in errors if "favicon.ico" not in e]  # there is none; it is no error
    assert errors == []  # nothing refused by the Content-Security-Policy, no script error
