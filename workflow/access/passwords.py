"""Passwords for people: Argon2id hashes, the password rules, and sign-in with lockout.

Contracts:
- Only an Argon2id hash (argon2-cffi's defaults, RFC 9106) is stored; a password is never
  logged, audited or returned. A hash made with older parameters is renewed at sign-in.
- A password has 12 to 256 characters and is not in config/common-passwords.txt (shipped
  with the project, compared case-insensitively, also with trailing digits and symbols
  removed), nor the username. No online look-up.
- `sign_in` gives the same answer (an outcome without a principal) for an unknown
  username, a user without a password, a disabled user and a wrong password, and spends
  one Argon2 verification on each, so their timing is alike.
- Failures are counted per username (known or not, so a lockout reveals nothing) and per
  client address in `sign_in_failures`, shared by every worker process. Past a threshold
  in the window the key is locked until `lockout` has passed: while locked, even the
  right password is refused. A success clears the username's count (not the address's).
- The caller commits the outcome's transaction before answering, so failures count even
  though the sign-in is refused.
- Changing a password ends all the user's sessions and is audited (no password, no hash).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.access import sessions
from workflow.access.account_audit import Actor, record, user_detail
from workflow.access.accounts import principal_for
from workflow.access.principal import Principal
from workflow.errors import InvalidFacts
from workflow.models import SignInFailures, User, UserPassword

MIN_LENGTH = 12
MAX_LENGTH = 256  # Argon2 takes any length; a bound keeps a request's cost bounded
COMMON_PASSWORDS = Path(__file__).resolve().parents[2] / "config" / "common-passwords.txt"
_HASHER = PasswordHasher()  # Argon2id
_TRAILING = re.compile(r"[\d\W_]+$")


@dataclass(frozen=True)
class LockoutPolicy:
    """Thresholds (from the settings `sign_in_*`)."""

    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class SignInOutcome:
    """`principal` when the password was right and nothing was locked; else None, with
    `locked_until` when a lock refused (or now refuses) further tries."""

    principal: Principal | None
    locked_until: datetime | None = None


@cache
def common_passwords() -> frozenset[str]:
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(x.strip().lower() for x in lines if x.strip() and not x.startswith("#"))


def check_rules(password: str, username: str) -> None:
    """InvalidFacts (field "password") naming the rule a new password breaks."""
    if len(password) < MIN_LENGTH:
        raise InvalidFacts(f"a password needs at least {MIN_LENGTH} characters", "password")
    if len(password) > MAX_LENGTH:
        raise InvalidFacts(f"a password has at most {MAX_LENGTH} characters", "password")
    lowered = password.lower()
    common = common_passwords()
    if lowered in common or _TRAILING.sub("", lowered) in common:
        raise InvalidFacts("this password is too common: choose another", "password")
    if username.lower() in lowered:
        raise InvalidFacts("a password must not contain the username", "password")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


# A hash of nothing anyone types: unknown users spend the same verification on it.
_DUMMY = _HASHER.hash("not a password: spent on unknown users for even timing")


def _verifies(stored: str | None, password: str) -> bool:
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def set_password(session: Session, user: User, password: str, *, now: datetime, by: Actor) -> None:
    """Check the rules, store the new hash, end all the user's sessions, audit it."""
    check_rules(password, user.username)
    row = session.get(UserPassword, user.id)
    if row is None:
        session.add(
            UserPassword(user_id=user.id, password_hash=hash_password(password), changed_at=now)
        )
    else:
        row.password_hash, row.changed_at = hash_password(password), now
    sessions.end_all(session, user.id, now, "password_changed")
    session.flush()
    record(session, by, now, "account.password_changed", user_detail(user))


def has_password(session: Session, user: User) -> bool:
    return session.get(UserPassword, user.id) is not None


def _keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username.strip().lower()[:128]}", f"addr:{address[:64]}"


def _locked(session: Session, key: str, now: datetime) -> datetime | None:
    row = session.get(SignInFailures, key)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        return row.locked_until
    return None


def _fail(
    session: Session, key: str, limit: int, now: datetime, policy: LockoutPolicy, by: Actor
) -> datetime | None:
    """Count one failure of `key`; the lock's end if this failure locks it."""
    row = session.get(SignInFailures, key)
    expired = row is not None and (
        (row.locked_until is not None and row.locked_until <= now)
        or row.first_failed_at + policy.window <= now
    )
    if row is None:
        row = SignInFailures(key=key, failures=0, first_failed_at=now, locked_until=None)
        session.add(row)
    elif expired:
        row.failures, row.first_failed_at, row.locked_until = 0, now, None
    row.failures += 1
    if row.failures >= limit and row.locked_until is None:
        row.locked_until = now + policy.lockout
        kind = key.split(":", 1)[0]  # the username or address itself stays out of the record
        record(
            session, by, now, "account.sign_in_locked", {"locked": kind, "failures": row.failures}
        )
        return row.locked_until
    return None


def sign_in(
    session: Session,
    username: str,
    password: str,
    *,
    address: str,
    now: datetime,
    policy: LockoutPolicy,
    by: Actor,
) -> SignInOutcome:
    """Check a username and password against the stored hash and the locks (contract:
    module docstring). `address`: the client's address the lock counts; `by`: the audit
    records' origin (a failure names the user's id only when the user exists)."""
    user_key, addr_key = _keys(username, address)
    user = session.scalar(select(User).where(User.username == username.strip()))
    stored = session.get(UserPassword, user.id) if user is not None else None
    right = _verifies(stored.password_hash if stored else None, password[:MAX_LENGTH])
    locked = [t for t in (_locked(session, user_key, now), _locked(session, addr_key, now)) if t]
    if locked:
        record(session, by, now, "account.sign_in_refused", {"reason": "locked"}, changed=False)
        return SignInOutcome(None, max(locked))
    if right and user is not None and user.is_active and stored is not None:
        row = session.get(SignInFailures, user_key)
        if row is not None:
            session.delete(row)
        if _HASHER.check_needs_rehash(stored.password_hash):
            stored.password_hash = hash_password(password)
        session.flush()
        return SignInOutcome(principal_for(session, user))
    detail = {"user_id": str(user.id)} if user is not None else {"user_id": None}
    record(session, by, now, "account.sign_in_failed", detail, changed=False)
    ends = [
        _fail(session, user_key, policy.account_failures, now, policy, by),
        _fail(session, addr_key, policy.address_failures, now, policy, by),
    ]
    session.flush()
    return SignInOutcome(None, max((t for t in ends if t), default=None))
