"""Partnerships, users, roles and API tokens; resolving a token to a Principal.

Tokens are 256-bit random strings shown once at creation and stored only as
their SHA-256 hash (a fast hash is right for high-entropy secrets; it is not a
password). Services flush, never commit.

Every function that changes who may do what takes the Actor (who, from where) and
writes one audit record in the caller's transaction (workflow/access/account_audit.py),
so the CLI and any admin page are audited alike.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.access import sessions, sign_on
from workflow.access.account_audit import Actor, record, role_detail, user_detail
from workflow.access.oidc import Identity
from workflow.access.permissions import Role
from workflow.access.principal import Grant, Principal
from workflow.audit import chain as audit
from workflow.core.errors import Conflict, DomainError, InvalidFacts, NotAuthenticated
from workflow.core.inputs import is_one_email_address
from workflow.core.nations import DEFAULT_NATION, DIVISION_OF, nation_of
from workflow.storage.models import ApiToken, CaseAssignment, Membership, Partnership, User

TOKEN_PREFIX = "crt_"  # noqa: S105 - a prefix, not a secret


def hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def create_partnership(
    session: Session,
    code: str,
    name: str,
    now: datetime,
    division: str | None = None,
    nation: str = DEFAULT_NATION,
    *,
    by: Actor,
) -> Partnership:
    """A partnership of `nation`; its calendar `division` defaults to the nation's (Wales
    counts on England and Wales's bank holidays) and may not be another nation's."""
    try:
        of_nation = nation_of(nation)
    except ValueError as exc:
        raise InvalidFacts(str(exc), "nation") from None
    own = DIVISION_OF[of_nation].value
    if division is not None and division != own:
        raise InvalidFacts(f"a {of_nation} partnership counts on the {own} calendar", "division")
    if session.scalar(select(Partnership).where(Partnership.code == code)) is not None:
        raise Conflict(f"partnership {code!r} already exists")
    partnership = Partnership(
        id=uuid.uuid4(), code=code, name=name, division=own, nation=of_nation, created_at=now
    )
    session.add(partnership)
    session.flush()
    audit.start(session, partnership, now, by.name, by.origin)  # its chain starts (docs/audit.md)
    detail = {
        "partnership_id": str(partnership.id),
        "partnership": code,
        "division": own,
        "nation": of_nation,
    }
    record(session, by, now, "partnership.created", detail)
    return partnership


def get_partnership(session: Session, code: str) -> Partnership:
    found = session.scalar(select(Partnership).where(Partnership.code == code))
    if found is None:
        raise DomainError(f"no partnership {code!r}")
    return found


def create_user(
    session: Session,
    username: str,
    display_name: str,
    now: datetime,
    *,
    system_admin: bool = False,
    oidc_issuer: str | None = None,
    oidc_subject: str | None = None,
    email: str | None = None,
    by: Actor,
) -> User:
    """A new active user (mapped to a sign-on subject if `oidc_subject` is given, which
    then needs its `oidc_issuer`)."""
    if session.scalar(select(User).where(User.username == username)) is not None:
        raise Conflict(f"user {username!r} already exists")
    _check_email(email)
    if oidc_subject is not None:
        sign_on.check_identity(session, None, oidc_issuer, oidc_subject)
    user = User(
        id=uuid.uuid4(),
        username=username,
        display_name=display_name,
        is_active=True,
        is_system_admin=system_admin,
        oidc_issuer=oidc_issuer if oidc_subject is not None else None,
        oidc_subject=oidc_subject,
        created_at=now,
        email=email,
    )
    session.add(user)
    session.flush()
    detail = {
        **user_detail(user),
        "system_admin": system_admin,
        "sign_on_issuer": user.oidc_issuer,
        "email": "set" if email else "none",
    }
    record(session, by, now, "account.user_created", detail)
    return user


def set_email(session: Session, user: User, email: str | None, *, now: datetime, by: Actor) -> None:
    """Where role-addressed e-mail subscriptions reach the user; None: nowhere. The
    audit record says whether an address is set, never which."""
    _check_email(email)
    changed = user.email != email
    user.email = email
    session.flush()
    detail = {**user_detail(user), "email": "set" if email else "cleared"}
    record(session, by, now, "account.email_changed", detail, changed=changed)


def _check_email(email: str | None) -> None:
    if email is not None and not is_one_email_address(email):
        raise InvalidFacts("an e-mail address must be one address (name@domain)", "email")


def get_user(session: Session, username: str) -> User:
    found = session.scalar(select(User).where(User.username == username))
    if found is None:
        raise DomainError(f"no user {username!r}")
    return found


def grant_role(
    session: Session,
    user: User,
    partnership: Partnership,
    role: str,
    *,
    now: datetime,
    by: Actor,
) -> None:
    """Give the user `role` in `partnership` (audited in that partnership's chain)."""
    Role(role)  # ValueError names an unknown role
    exists = session.get(Membership, (user.id, partnership.id, role))
    if exists is None:
        session.add(Membership(user_id=user.id, partnership_id=partnership.id, role=role))
        session.flush()
    detail = {**user_detail(user), **role_detail(partnership, role)}
    record(
        session,
        by,
        now,
        "account.role_granted",
        detail,
        changed=exists is None,
        chain=partnership.code,
    )


@dataclass(frozen=True)
class IssuedToken:
    id: uuid.UUID
    secret: str  # shown once, never stored
    expires_at: datetime | None


def create_token(
    session: Session,
    user: User,
    label: str,
    now: datetime,
    valid_for: timedelta | None = None,
    *,
    by: Actor,
) -> IssuedToken:
    """A new API token; its secret is in the result only (the audit record holds its id,
    not its secret, hash or label)."""
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        id=uuid.uuid4(),
        user_id=user.id,
        token_hash=hash_token(secret),
        label=label,
        created_at=now,
        expires_at=now + valid_for if valid_for else None,
    )
    session.add(token)
    try:
        session.flush()
    except IntegrityError:  # pragma: no cover - a 256-bit collision
        raise Conflict("token collision; try again") from None
    expires = token.expires_at.isoformat() if token.expires_at else None
    detail = {**user_detail(user), "token_id": str(token.id), "expires_at": expires}
    record(session, by, now, "account.token_created", detail)
    return IssuedToken(token.id, secret, token.expires_at)


def revoke_token(session: Session, token_id: uuid.UUID, now: datetime, *, by: Actor) -> ApiToken:
    token = session.get(ApiToken, token_id)
    if token is None:
        raise DomainError(f"no token {token_id}")
    active = token.revoked_at is None
    if active:
        token.revoked_at = now
        sessions.end_all(session, token.user_id, now, "token_revoked")
        session.flush()
    owner = session.get(User, token.user_id)
    assert owner is not None  # a foreign key
    detail = {**user_detail(owner), "token_id": str(token.id)}
    record(session, by, now, "account.token_revoked", detail, changed=active)
    return token


def list_tokens(session: Session, username: str | None = None) -> list[tuple[ApiToken, str]]:
    stmt = select(ApiToken, User.username).join(User, User.id == ApiToken.user_id)
    if username:
        stmt = stmt.where(User.username == username)
    return [(t, u) for t, u in session.execute(stmt.order_by(ApiToken.created_at))]


def has_users(session: Session) -> bool:
    """Whether any user exists (the first-run set-up does nothing once one does)."""
    return session.scalar(select(User.id).limit(1)) is not None


def list_partnerships(session: Session) -> list[Partnership]:
    """Every partnership, by code."""
    return list(session.scalars(select(Partnership).order_by(Partnership.code)))


def list_memberships(session: Session) -> list[tuple[str, str | None, str | None]]:
    """(username, partnership code, role) for every user, a user without a role once."""
    rows = session.execute(
        select(User.username, Partnership.code, Membership.role)
        .outerjoin(Membership, Membership.user_id == User.id)
        .outerjoin(Partnership, Partnership.id == Membership.partnership_id)
        .order_by(User.username, Partnership.code, Membership.role)
    )
    return [(u, c, r) for u, c, r in rows]


def principal_for(session: Session, user: User) -> Principal:
    rows = session.execute(
        select(
            Membership.partnership_id,
            Partnership.code,
            Membership.role,
            Partnership.nation,
            Partnership.name,
        )
        .join(Partnership, Partnership.id == Membership.partnership_id)
        .where(Membership.user_id == user.id)
    )
    assigned = session.scalars(
        select(CaseAssignment.case_id).where(CaseAssignment.user_id == user.id)
    )
    return Principal(
        user_id=user.id,
        username=user.username,
        grants=tuple(
            Grant(pid, code, role, nation, name) for pid, code, role, nation, name in rows
        ),
        assigned_cases=frozenset(assigned),
        is_system_admin=user.is_system_admin,
    )


def authenticate_token(session: Session, raw: str, now: datetime) -> Principal:
    """The Principal of a valid API token, or NotAuthenticated (one message for every
    failure, so a caller cannot tell an unknown token from a revoked one)."""
    return authenticate_token_hash(session, hash_token(raw), now)[0]


def authenticate_token_hash(
    session: Session, token_hash: str, now: datetime
) -> tuple[Principal, datetime | None]:
    """`authenticate_token` by the token's hash; also returns the token's expiry."""
    found = session.execute(
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash)
    ).first()
    if found is None:
        raise NotAuthenticated("the token is not valid")
    token, user = found
    if (
        token.revoked_at is not None
        or not user.is_active
        or (token.expires_at is not None and token.expires_at <= now)
    ):
        raise NotAuthenticated("the token is not valid")
    return principal_for(session, user), token.expires_at


def authenticate_identity(session: Session, identity: Identity) -> Principal:
    """The Principal of a verified sign-on identity (sign_on.user_for_identity: a mapped
    user only by issuer + subject, never by a username claim)."""
    user = sign_on.user_for_identity(session, identity)
    if user is None or not user.is_active:
        raise NotAuthenticated("no active user for this identity")
    return principal_for(session, user)


def revoke_role(
    session: Session,
    user: User,
    partnership: Partnership,
    role: str,
    *,
    now: datetime,
    by: Actor,
) -> bool:
    """Remove one role; True if the user had it (audited in the partnership's chain)."""
    membership = session.get(Membership, (user.id, partnership.id, role))
    if membership is not None:
        session.delete(membership)
        sessions.end_all(session, user.id, now, "role_revoked")
        session.flush()
    detail = {**user_detail(user), **role_detail(partnership, role)}
    record(
        session,
        by,
        now,
        "account.role_revoked",
        detail,
        changed=membership is not None,
        chain=partnership.code,
    )
    return membership is not None


def set_active(session: Session, user: User, active: bool, *, now: datetime, by: Actor) -> None:
    """Disable (or re-enable) a user: a disabled user's tokens and sign-on stop working."""
    changed = user.is_active != active
    user.is_active = active
    if not active:
        sessions.end_all(session, user.id, now, "disabled")
    session.flush()
    action = "account.user_enabled" if active else "account.user_disabled"
    record(session, by, now, action, user_detail(user), changed=changed)
