"""Passwords for people: Argon2id hashes, the password rules, and sign-in with lockout.

Contracts:
- Only an Argon2id hash (argon2-cffi's defaults, RFC 9106) is stored; a password is never
  logged, audited or returned. A hash made with older parameters is renewed at sign-in.
- A password has 12 to 256 characters, does not contain the username, and is not in
  config/common-passwords.txt (shipped with the project; no online look-up) once both
  are normalised alike: lower case, only letters and digits kept (so symbols and spaces
  anywhere do not make a common password new), compared as it is and with the digits
  at its start and end removed ("q1w2e3r4t5y6!!" and "!!qwertyuiop12" are refused; a
  common word inside a longer passphrase is not).
- `sign_in` gives the same answer (an outcome without a principal) for an unknown
  username, a user without a password, a disabled user and a wrong password, and spends
  one Argon2 verification on each, so their timing is alike.
- Failures are counted per username (known or not, so a lockout reveals nothing) and per
  client address in `sign_in_failures`, shared by every worker process; each count is
  one atomic upsert (`count_failure`), so processes failing at once lose no count. Past a threshold
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
from typing import cast

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import Table, and_, case, delete, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from config.settings import Settings
from workflow.access import sessions
from workflow.access.account_audit import Actor, record, user_detail
from workflow.access.accounts import principal_for
from workflow.access.principal import Principal
from workflow.core.errors import InvalidFacts
from workflow.storage.models import SignInFailures, User, UserPassword
from workflow.storage.models.base import UTCDateTime

METHOD = "password"  # a web session's sign-in method (web_session.method)
MIN_LENGTH = 12
MAX_LENGTH = 256  # Argon2 takes any length; a bound keeps a request's cost bounded
COMMON_PASSWORDS = Path(__file__).resolve().parents[2] / "config" / "common-passwords.txt"
_HASHER = PasswordHasher()  # Argon2id
_NOT_ALNUM = re.compile(r"[\W_]+")


@dataclass(frozen=True)
class LockoutPolicy:
    """Thresholds (from the settings `sign_in_*`)."""

    account_failures: int = 5
    address_failures: int = 20
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)

    @classmethod
    def from_settings(cls, settings: Settings) -> LockoutPolicy:
        return cls(
            account_failures=settings.sign_in_account_failures,
            address_failures=settings.sign_in_address_failures,
            window=timedelta(minutes=settings.sign_in_window_minutes),
            lockout=timedelta(minutes=settings.sign_in_lockout_minutes),
        )


@dataclass(frozen=True)
class SignInOutcome:
    """`principal` when the password was right and nothing was locked; else None, with
    `locked_until` when a lock refused (or now refuses) further tries."""

    principal: Principal | None
    locked_until: datetime | None = None


def _normal(text: str) -> str:
    """Lower case, letters and digits only: "Q1w2-e3r4!" -> "q1w2e3r4"."""
    return _NOT_ALNUM.sub("", text.lower())


@cache
def common_passwords() -> frozenset[str]:
    """The shipped list, each entry normalised as a candidate is (`_normal`)."""
    lines = COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    found = (_normal(x) for x in lines if x.strip() and not x.startswith("#"))
    return frozenset(x for x in found if x)


def _is_common(password: str) -> bool:
    base = _normal(password)
    forms = {base, base.rstrip("0123456789"), base.lstrip("0123456789"), base.strip("0123456789")}
    return any(f and f in common_passwords() for f in forms)


def check_rules(password: str, username: str) -> None:
    """InvalidFacts (field "password") naming the rule a new password breaks."""
    if len(password) < MIN_LENGTH:
        raise InvalidFacts(f"a password needs at least {MIN_LENGTH} characters", "password")
    if len(password) > MAX_LENGTH:
        raise InvalidFacts(f"a password has at most {MAX_LENGTH} characters", "password")
    if _is_common(password):
        raise InvalidFacts("this password is too common: choose another", "password")
    if username.lower() in password.lower():
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


def count_failure(
    session: Session, key: str, limit: int, now: datetime, policy: LockoutPolicy, by: Actor
) -> datetime | None:
    """Count one failure of `key`; the lock's end if this failure locks it.

    One atomic INSERT ... ON CONFLICT DO UPDATE (PostgreSQL and SQLite alike) adds the
    failure to the stored count, or starts a new count when the window has passed or
    an earlier lock has ended; a read-then-write would lose a count (or fail on the
    primary key) when two processes count at once. Then one conditional UPDATE sets
    the lock, so only the failure that reached the limit locks and audits it."""
    table = cast(Table, SignInFailures.__table__)
    c, at = table.c, literal(now, UTCDateTime())
    insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )(table)
    restart = or_(
        and_(c.locked_until.is_not(None), c.locked_until <= now),
        and_(c.locked_until.is_(None), c.first_failed_at <= now - policy.window),
    )
    upsert = (
        insert.values(key=key, failures=1, first_failed_at=now, locked_until=None)
        .on_conflict_do_update(
            index_elements=[c.key],
            set_={
                "failures": case((restart, 1), else_=c.failures + 1),
                "first_failed_at": case((restart, at), else_=c.first_failed_at),
                "locked_until": case((restart, None), else_=c.locked_until),
            },
        )
        .returning(c.failures)
    )
    failures = int(session.execute(upsert).scalar_one())
    if failures < limit:
        return None
    until = now + policy.lockout
    locked = session.execute(
        update(SignInFailures)
        .where(SignInFailures.key == key, SignInFailures.locked_until.is_(None))
        .values(locked_until=until)
        .execution_options(synchronize_session=False)
    )
    if locked.rowcount != 1:  # type: ignore[attr-defined]
        return None  # already locked by a failure counted at the same time
    kind = key.split(":", 1)[0]  # the username or address itself stays out of the record
    record(session, by, now, "account.sign_in_locked", {"locked": kind, "failures": failures})
    return until


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
        session.execute(delete(SignInFailures).where(SignInFailures.key == user_key))
        if _HASHER.check_needs_rehash(stored.password_hash):
            stored.password_hash = hash_password(password)
        session.flush()
        return SignInOutcome(principal_for(session, user))
    detail = {"user_id": str(user.id)} if user is not None else {"user_id": None}
    record(session, by, now, "account.sign_in_failed", detail, changed=False)
    ends = [
        count_failure(session, user_key, policy.account_failures, now, policy, by),
        count_failure(session, addr_key, policy.address_failures, now, policy, by),
    ]
    session.flush()
    return SignInOutcome(None, max((t for t in ends if t), default=None))
