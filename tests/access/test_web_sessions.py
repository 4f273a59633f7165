"""The web dashboard's server-side sessions and CSRF (both databases, injected clock).

The cookie holds an opaque id, never a password or an API token; sessions expire
when idle and at an absolute age; every sign-in gets a new id; sign-out and
revocations end sessions on the server; every state-changing form needs its CSRF
token.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.web.session import COOKIE
from tests.support.db_plugin import Clock
from tests.support.factories import NOW
from tests.support.web import PASSWORD, csrf_of, give_password, sign_in, sign_out
from tests.support.world import ADMIN, World
from workflow.access import accounts, sessions
from workflow.core.errors import NotAuthenticated
from workflow.storage.database import Database
from workflow.storage.models import WebSession

IDLE, ABSOLUTE = timedelta(minutes=30), timedelta(hours=12)
OFFICER, VIEWER = "la.officer", "alpha-viewer"


@pytest.fixture(autouse=True)
def _passwords(database: Database, world: World) -> None:
    for username in (OFFICER, VIEWER):
        give_password(database, username)


def _signed_in(raw: TestClient, username: str) -> str:
    """Sign in; the session cookie's value."""
    response = sign_in(raw, username)
    assert response.status_code == 303, response.text
    return response.cookies[COOKIE]


def _signed_out_of(raw: TestClient, cookie: str) -> bool:
    """Whether a page with this session cookie sends the browser to sign in."""
    raw.cookies.delete(COOKIE)
    raw.cookies.set(COOKIE, cookie)
    page = raw.get("/", follow_redirects=False)
    return page.status_code == 303 and page.headers["location"].startswith("/session")


def _rows(database: Database) -> list[WebSession]:
    return database.read(lambda s: list(s.scalars(select(WebSession).order_by(WebSession.id))))


def test_the_cookie_holds_an_opaque_session_id_never_a_secret(
    raw: TestClient, world: World, database: Database
) -> None:
    page = raw.get("/session")
    signed = sign_in(raw, OFFICER)
    assert signed.status_code == 303
    set_cookies = page.headers.get_list("set-cookie") + signed.headers.get_list("set-cookie")
    assert any(c.startswith(f"{COOKIE}=") for c in set_cookies)
    for header in set_cookies:
        assert world.officer_token not in header
        assert world.officer_token.removeprefix("crt_") not in header
        assert PASSWORD not in header
    cookie = signed.cookies[COOKIE]
    (row,) = _rows(database)
    assert cookie not in (row.session_hash, row.csrf_secret)  # only its hash is stored
    assert row.method == "password"
    assert (row.created_at, row.last_seen_at, row.ended_at) == (NOW, NOW, None)
    assert raw.get("/").status_code == 200


def test_a_session_ends_after_30_idle_minutes_and_background_checks_do_not_extend_it(
    raw: TestClient, world: World, clock: Clock
) -> None:
    cookie = _signed_in(raw, OFFICER)
    clock.now += IDLE - timedelta(minutes=1)
    assert raw.get("/").status_code == 200  # a page opened: the idle time starts again
    clock.now += IDLE - timedelta(minutes=1)
    assert raw.get("/").status_code == 200
    clock.now += timedelta(minutes=20)
    unknown_case = f"/cases/{uuid.uuid4()}/status.json"
    assert raw.get(unknown_case).status_code == 404  # still signed in (401 otherwise) ...
    clock.now += timedelta(minutes=10)
    assert _signed_out_of(raw, cookie)  # ... but the background check was no activity
    assert raw.get(unknown_case).status_code == 401


def test_a_session_ends_12_hours_after_sign_in_however_active(
    raw: TestClient, world: World, clock: Clock
) -> None:
    cookie = _signed_in(raw, OFFICER)
    while clock.now + timedelta(minutes=25) < NOW + ABSOLUTE:
        clock.now += timedelta(minutes=25)
        assert raw.get("/").status_code == 200, clock.now
    clock.now = NOW + ABSOLUTE
    assert _signed_out_of(raw, cookie)


def test_every_sign_in_gets_a_new_session_id_and_ends_the_previous_one(
    raw: TestClient, world: World, database: Database
) -> None:
    first = _signed_in(raw, OFFICER)
    second = _signed_in(raw, OFFICER)  # the browser sends `first` along
    assert second != first
    assert _signed_out_of(raw, first)
    assert not _signed_out_of(raw, second)
    planted = "an-id-chosen-by-someone-else"  # session fixation: never adopted
    raw.cookies.delete(COOKIE)
    raw.cookies.set(COOKIE, planted)
    assert _signed_in(raw, OFFICER) not in (planted, first, second)
    reasons = sorted(str(r.end_reason) for r in _rows(database) if r.ended_at is not None)
    assert reasons == ["replaced"]  # `first`; the planted id named no session to end


def test_sign_out_ends_the_session_on_the_server(
    raw: TestClient, world: World, database: Database
) -> None:
    cookie = _signed_in(raw, OFFICER)
    out = sign_out(raw)
    assert out.status_code == 303
    assert COOKIE not in raw.cookies  # forgotten by the browser ...
    assert _signed_out_of(raw, cookie)  # ... and replaying it is refused
    (row,) = _rows(database)
    assert (row.ended_at, row.end_reason) == (NOW, "signed_out")


def _disable(s: Session) -> None:
    accounts.set_active(s, accounts.get_user(s, "la.officer"), False, now=NOW, by=ADMIN)


def _revoke_role(s: Session) -> None:
    user = accounts.get_user(s, "la.officer")
    accounts.revoke_role(
        s, user, accounts.get_partnership(s, "alpha"), "notifier", now=NOW, by=ADMIN
    )


def _revoke_token(s: Session) -> None:
    ((token, _),) = accounts.list_tokens(s, "la.officer")
    accounts.revoke_token(s, token.id, NOW, by=ADMIN)


@pytest.mark.parametrize(
    ("revoke", "reason"),
    [(_disable, "disabled"), (_revoke_role, "role_revoked"), (_revoke_token, "token_revoked")],
)
def test_disabling_a_user_or_revoking_a_role_or_token_ends_their_sessions(
    raw: TestClient,
    world: World,
    database: Database,
    revoke: Callable[[Session], None],
    reason: str,
) -> None:
    other = TestClient(raw.app)  # a second browser of the same user
    cookies = [_signed_in(raw, OFFICER), _signed_in(other, OFFICER)]
    bystander = _signed_in(TestClient(raw.app), VIEWER)
    database.write(revoke)
    database.write(
        lambda s: accounts.set_active(
            s, accounts.get_user(s, "la.officer"), True, now=NOW, by=ADMIN
        )
    )  # enabled again: the ended sessions stay ended
    for cookie in cookies:
        assert _signed_out_of(raw, cookie)
    assert not _signed_out_of(raw, bystander)  # another user's session is untouched
    ended = {r.end_reason for r in _rows(database) if r.ended_at is not None}
    assert reason in ended


def test_a_state_changing_form_without_its_csrf_token_is_refused(
    raw: TestClient, world: World
) -> None:
    _signed_in(raw, OFFICER)
    for data in ({}, {"csrf_token": "not-the-token"}):
        refused = raw.post("/session/end", data=data, follow_redirects=False)
        assert refused.status_code == 403
        assert "The form could not be sent" in refused.text
        assert "default-src 'self'" in refused.headers["content-security-policy"]
        assert raw.get("/").status_code == 200  # still signed in: nothing changed
    right = csrf_of(raw.get("/").text)
    foreign = raw.post(
        "/session/end", data={"csrf_token": right}, headers={"Sec-Fetch-Site": "cross-site"}
    )
    assert foreign.status_code == 403  # the browser's word is kept besides the token
    assert raw.get("/").status_code == 200


def test_login_csrf_from_an_old_browser_is_refused_without_the_token(
    raw: TestClient, world: World
) -> None:
    null_origin = {"Origin": "null"}  # no Sec-Fetch-Site: an old browser
    for data in ({}, {"csrf_token": "x" * 43}):
        forged = raw.post(
            "/session",
            data={"username": OFFICER, "password": PASSWORD, **data},
            headers=null_origin,
            follow_redirects=False,
        )
        assert forged.status_code == 403
        assert "own sign-in page" in forged.text
        assert all(not c.startswith(COOKIE) for c in forged.headers.get_list("set-cookie"))
    proved = sign_in(raw, OFFICER, **null_origin)  # the form's own token
    assert proved.status_code == 303
    raw.cookies.clear()  # a token from a page whose pre-session cookie is gone
    stale = raw.post(
        "/session", data={"username": OFFICER, "password": PASSWORD, "csrf_token": "x" * 43}
    )
    assert stale.status_code == 403


def test_a_touch_after_sign_out_elsewhere_does_not_revive_the_session(
    database: Database, world: World, clock: Clock
) -> None:
    """Another worker's sign-out committed between a page's read and its touch wins."""
    policy = sessions.SessionPolicy()
    user_id = database.read(lambda s: accounts.get_user(s, "la.officer").id)
    issued = database.write(lambda s: sessions.start(s, user_id, NOW))
    later = NOW + timedelta(minutes=5)
    active = database.read(lambda s: sessions.resume(s, issued.secret, later, policy))
    assert active.stale
    assert database.write(lambda s: sessions.end(s, issued.secret, later))
    with pytest.raises(NotAuthenticated):
        database.write(lambda s: sessions.touch(s, active.id, later, policy))
    with pytest.raises(NotAuthenticated):
        database.read(lambda s: sessions.resume(s, issued.secret, later, policy))
