"""Failed sign-ins counted by two sessions at once lose no count (both databases); the
common-password check sees through symbols and digits added at the end; the lockout
policy comes from the settings."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from config.settings import Settings
from tests.support.factories import NOW
from workflow.access import accounts, passwords
from workflow.access.account_audit import Actor
from workflow.core.errors import InvalidFacts
from workflow.storage.database import Database
from workflow.storage.models import SignInFailures

BY = Actor("cli:test", "cli test")
POLICY = passwords.LockoutPolicy(account_failures=3, address_failures=50)
GOOD = "correct horse battery staple"


def _fail(s: Session, address: str) -> passwords.SignInOutcome:
    return passwords.sign_in(
        s, "pat", "wrong password!!", address=address, now=NOW, policy=POLICY, by=BY
    )


def _count(database: Database, key: str) -> int | None:
    row = database.read(lambda s: s.get(SignInFailures, key))
    return None if row is None else row.failures


def _wait_until_blocked(database: Database) -> None:
    """PostgreSQL: until another connection waits for a row lock (a process's state,
    not time passing). SQLite: BEGIN IMMEDIATE already queues the second writer."""
    if database.is_sqlite:
        return
    query = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")
    for _ in range(10_000):
        with database.engine.connect() as conn:
            if conn.scalar(query):
                return
    pytest.fail("the second sign-in never waited for the first")


@pytest.mark.parametrize("existing", [0, 1], ids=["first-failure", "later-failure"])
def test_two_sessions_counting_failures_at_once_lose_no_count(
    database: Database, existing: int
) -> None:
    database.write(
        lambda s: passwords.set_password(
            s, accounts.create_user(s, "pat", "Pat", NOW, by=BY), GOOD, now=NOW, by=BY
        )
    )
    for i in range(existing):
        database.write(lambda s, i=i: _fail(s, f"10.1.0.{i}"))  # type: ignore[misc]
    errors: list[BaseException] = []

    def second() -> None:
        try:
            database.write(lambda s: _fail(s, "10.2.0.2"))
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    with database.sessions() as first:
        if database.is_sqlite:
            first.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        _fail(first, "10.2.0.1")  # counted, not yet committed
        other = threading.Thread(target=second)
        other.start()
        _wait_until_blocked(database)
        first.commit()
    other.join(timeout=30)
    assert errors == []
    assert _count(database, "user:pat") == existing + 2
    if existing + 2 >= POLICY.account_failures:  # the lock was set once, by one of them
        locked = database.read(lambda s: s.get(SignInFailures, "user:pat"))
        assert locked is not None
        assert locked.locked_until == NOW + POLICY.lockout


@pytest.mark.parametrize(
    "variant",
    [
        "q1w2e3r4t5y6!!",
        "Q1W2E3R4T5Y6",
        "q1w2e3r4t5y6 !",
        "1qaz2wsx3edc??",
        "qwertyuiop123!!!",
        "!!qwertyuiop12",
        "qwertyuiop-123456",
    ],
)
def test_common_passwords_with_symbols_or_digits_added_are_refused(variant: str) -> None:
    with pytest.raises(InvalidFacts, match="too common"):
        passwords.check_rules(variant, "pat")


@pytest.mark.parametrize(
    "fine", [GOOD, "q1w2e3r4t5y6 plus words of my own", "my cat is 12 years old!"]
)
def test_a_common_password_inside_a_longer_one_is_not_refused(fine: str) -> None:
    passwords.check_rules(fine, "pat")


def test_the_lockout_policy_reads_the_settings() -> None:
    settings = Settings(
        sign_in_account_failures=2,
        sign_in_address_failures=7,
        sign_in_window_minutes=3,
        sign_in_lockout_minutes=4,
    )
    assert passwords.LockoutPolicy.from_settings(settings) == passwords.LockoutPolicy(
        account_failures=2,
        address_failures=7,
        window=timedelta(minutes=3),
        lockout=timedelta(minutes=4),
    )


@pytest.mark.parametrize("existing", [0, 2], ids=["new-key", "counted-key"])
def test_two_sessions_counting_one_key_at_once_lose_no_count(
    database: Database, existing: int
) -> None:
    """The counter itself, without the audit record a sign-in writes first (whose chain
    head happens to serialise whole sign-ins): each count must be atomic on its own."""
    key, limit = "user:someone", 3

    def count(s: Session) -> object:
        return passwords.count_failure(s, key, limit, NOW, POLICY, BY)

    for _ in range(existing):
        database.write(count)
    errors: list[BaseException] = []

    def second() -> None:
        try:
            database.write(count)
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    with database.sessions() as first:
        if database.is_sqlite:
            first.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        first_locked = count(first)  # counted, not yet committed
        other = threading.Thread(target=second)
        other.start()
        _wait_until_blocked(database)
        first.commit()
    other.join(timeout=30)
    assert errors == []
    assert _count(database, key) == existing + 2
    row = database.read(lambda s: s.get(SignInFailures, key))
    assert row is not None
    assert row.locked_until == (NOW + POLICY.lockout if existing + 2 >= limit else None)
    assert first_locked == (NOW + POLICY.lockout if existing + 1 >= limit else None)
