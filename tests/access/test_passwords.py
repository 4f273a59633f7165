"""Passwords for people (both databases, injected time): rules, same answer for unknown
user and wrong password, lockout per account and per address shared through the
database, lockout expiry, sessions ended on a password change, one-time invites."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.support.factories import NOW
from workflow.access import accounts, invites, passwords, sessions
from workflow.access.account_audit import Actor
from workflow.core.errors import InvalidFacts, NotAuthenticated
from workflow.storage.database import Database

BY = Actor("cli:test", "cli test")
POLICY = passwords.LockoutPolicy(account_failures=3, address_failures=5)
GOOD = "correct horse battery staple"


def _user(database: Database, name: str = "pat") -> None:
    def run(s):  # type: ignore[no-untyped-def]
        user = accounts.create_user(s, name, "Pat", NOW, by=BY)
        passwords.set_password(s, user, GOOD, now=NOW, by=BY)

    database.write(run)


def _try(database: Database, name: str, pw: str, addr: str = "10.0.0.1", now=NOW):  # type: ignore[no-untyped-def]
    return database.write(
        lambda s: passwords.sign_in(s, name, pw, address=addr, now=now, policy=POLICY, by=BY)
    )


@pytest.mark.parametrize(
    "bad", ["short pass", "1QAZ2WSX3EDC", "Qwertyuiop123456!", "Pat-was-here-2026"]
)
def test_short_common_and_username_passwords_are_refused(bad: str) -> None:
    with pytest.raises(InvalidFacts) as refused:
        passwords.check_rules(bad, "pat")
    assert refused.value.field == "password"


def test_wrong_password_and_unknown_user_get_the_same_answer(database: Database) -> None:
    _user(database)
    assert _try(database, "pat", GOOD).principal is not None
    wrong, unknown = _try(database, "pat", "wrong password!!"), _try(database, "nobody", GOOD)
    assert wrong == unknown == passwords.SignInOutcome(None, None)


def test_account_locks_across_two_database_handles_and_expires(
    database: Database,
    settings,  # type: ignore[no-untyped-def]
) -> None:
    from workflow.runtime import open_database

    _user(database)
    other = open_database(settings)  # a second worker process's engine
    try:
        _try(database, "pat", "wrong password 1", "10.0.0.1")
        _try(other, "pat", "wrong password 2", "10.0.0.2")
        locked = _try(database, "pat", "wrong password 3", "10.0.0.3")
        assert locked.locked_until == NOW + POLICY.lockout
        assert _try(other, "pat", GOOD, "10.0.0.4").principal is None  # right, but locked
        later = NOW + POLICY.lockout + timedelta(seconds=1)
        assert _try(other, "pat", GOOD, "10.0.0.4", later).principal is not None
    finally:
        other.dispose()


def test_address_locks_for_every_username(database: Database) -> None:
    _user(database)
    for i in range(5):
        _try(database, f"guess{i}", "wrong password!!")
    assert _try(database, "pat", GOOD).principal is None
    assert _try(database, "pat", GOOD, "10.9.9.9").principal is not None


def test_password_change_ends_all_sessions(database: Database) -> None:
    _user(database)

    def run(s):  # type: ignore[no-untyped-def]
        user = accounts.get_user(s, "pat")
        issued = sessions.start(s, user.id, NOW)
        passwords.set_password(s, user, "another long passphrase", now=NOW, by=BY)
        return issued.secret

    secret = database.write(run)
    with pytest.raises(NotAuthenticated):
        database.read(lambda s: sessions.resume(s, secret, NOW, sessions.SessionPolicy()))


def test_invite_is_single_use_and_expires_at_72_hours(database: Database) -> None:
    database.write(lambda s: accounts.create_user(s, "sam", "Sam", NOW, by=BY))
    token = database.write(lambda s: invites.issue(s, accounts.get_user(s, "sam"), now=NOW, by=BY))
    late = NOW + timedelta(hours=72)
    with pytest.raises(NotAuthenticated):
        database.write(lambda s: invites.redeem(s, token, GOOD, now=late, by=BY))
    with pytest.raises(InvalidFacts):  # a refused password leaves the invite usable
        database.write(lambda s: invites.redeem(s, token, "short", now=NOW, by=BY))
    database.write(lambda s: invites.redeem(s, token, GOOD, now=NOW, by=BY))
    with pytest.raises(NotAuthenticated):
        database.write(lambda s: invites.redeem(s, token, GOOD, now=NOW, by=BY))
    assert _try(database, "sam", GOOD).principal is not None
