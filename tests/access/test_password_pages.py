"""A person's password in the browser and at the CLI (both databases, injected clock):
the one-time set-password link, "Change your password", `users set-password` and
`users invite`. Setting or changing a password ends the user's other sessions."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from api.cli import main
from api.web.accounts import CHANGE
from api.web.session import COOKIE
from config.settings import Settings, get_settings
from tests.support.db_plugin import Clock
from tests.support.web import PASSWORD, csrf_of, give_password, sign_in
from tests.support.world import World
from workflow.access import accounts, invites
from workflow.access.account_audit import Actor
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord

OFFICER = "la.officer"
NEW = "seven quiet herons over the weir"
BY = Actor("cli:test", "cli test")


def _invite(database: Database, clock: Clock, username: str = OFFICER) -> str:
    """A set-password link's path, issued now."""
    token = database.write(
        lambda s: invites.issue(s, accounts.get_user(s, username), now=clock.now, by=BY)
    )
    return invites.PATH + token


def _set(raw: TestClient, link: str, new: str, confirm: str | None = None) -> object:
    page = raw.get(link)
    assert page.status_code == 200, page.text
    data = {
        "new_password": new,
        "confirm_password": new if confirm is None else confirm,
        "csrf_token": csrf_of(page.text),
    }
    return raw.post(link, data=data, follow_redirects=False)


def test_a_link_sets_the_password_once_and_the_person_signs_in_with_it(
    raw: TestClient, world: World, database: Database, clock: Clock
) -> None:
    link = _invite(database, clock)
    assert sign_in(raw, OFFICER, NEW).status_code == 400  # no password yet
    weak = _set(raw, link, "password1234")
    assert weak.status_code == 400  # type: ignore[attr-defined]
    assert "There is a problem" in weak.text  # type: ignore[attr-defined]
    assert "password1234" not in weak.text  # type: ignore[attr-defined]
    mismatch = _set(raw, link, NEW, NEW + "x")
    assert mismatch.status_code == 400  # type: ignore[attr-defined]
    done = _set(raw, link, NEW)
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"] == "/session?password=set"  # type: ignore[attr-defined]
    assert sign_in(raw, OFFICER, NEW).status_code == 303
    used = raw.get(link)
    assert used.status_code in (404, 410)
    assert "This link is not valid" in used.text
    audited = database.read(
        lambda s: [(a.action, str(a.detail)) for a in s.scalars(select(AuditRecord))]
    )
    actions = [action for action, _ in audited]
    assert "account.password_invite_issued" in actions
    assert "account.password_changed" in actions
    assert not any(NEW in detail or link in detail for _, detail in audited)


def test_a_link_expires_after_72_hours(
    raw: TestClient, world: World, database: Database, clock: Clock
) -> None:
    link = _invite(database, clock)
    clock.now += timedelta(hours=72, seconds=1)
    expired = raw.get(link)
    assert expired.status_code in (404, 410)
    assert 'name="new_password"' not in expired.text


def test_changing_the_password_ends_the_other_sessions(
    app: object, raw: TestClient, world: World, database: Database
) -> None:
    give_password(database, OFFICER)
    with TestClient(app) as other:  # type: ignore[arg-type]
        assert sign_in(other, OFFICER).status_code == 303
        assert other.get("/", follow_redirects=False).status_code == 200
        assert sign_in(raw, OFFICER).status_code == 303
        page = raw.get(CHANGE)
        assert page.status_code == 200
        form = {"csrf_token": csrf_of(page.text), "new_password": NEW, "confirm_password": NEW}
        wrong = raw.post(CHANGE, data=form | {"current_password": "not the one at all"})
        assert wrong.status_code == 400
        assert "not right" in wrong.text
        no_csrf = raw.post(CHANGE, data=form | {"csrf_token": "", "current_password": PASSWORD})
        assert no_csrf.status_code == 403
        changed = raw.post(
            CHANGE, data=form | {"current_password": PASSWORD}, follow_redirects=False
        )
        assert changed.status_code == 303
        assert raw.get("/", follow_redirects=False).status_code == 200  # this browser stays
        assert other.get("/", follow_redirects=False).status_code == 303  # the other is out
    assert sign_in(raw, OFFICER, PASSWORD).status_code == 400
    assert sign_in(raw, OFFICER, NEW).status_code == 303


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("CASEREVIEW_BASE_URL", "https://reviews.example")
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_the_cli_sets_a_password_from_stdin_and_prints_an_invite(
    cli_env: Settings,
    world: World,
    app: object,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "set-password", OFFICER, "--password-stdin"]) == 2
    assert "12" in capsys.readouterr().err  # the reason, in words
    monkeypatch.setattr("sys.stdin", io.StringIO(NEW + "\n"))
    assert main(["users", "set-password", OFFICER, "--password-stdin"]) == 0
    out = capsys.readouterr()
    assert NEW not in out.out + out.err
    with TestClient(app) as browser:  # type: ignore[arg-type]
        assert sign_in(browser, OFFICER, NEW).status_code == 303
        assert COOKIE in browser.cookies

    assert main(["users", "invite", OFFICER, "--no-email"]) == 0
    printed = capsys.readouterr().out
    found = re.search(r"https://reviews\.example(/session/password/\S+)", printed)
    assert found is not None, printed
    assert "72 hours" in printed
    with TestClient(app) as browser:  # type: ignore[arg-type]
        assert browser.get(found.group(1)).status_code == 200
