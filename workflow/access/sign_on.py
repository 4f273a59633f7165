"""Which user a single sign-on identity reaches, and mapping a user to one.

A user mapped to a subject is reached only by a token of that issuer and subject. The
username claim (CASEREVIEW_OIDC_MATCH_USERNAME, off by default) reaches only users
mapped to no subject: otherwise anyone who can get a token whose `preferred_username`
reads "alice" (a self-service profile at many issuers) would be alice here.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session

from workflow.access.account_audit import Actor, record, user_detail
from workflow.access.oidc import Identity
from workflow.core.errors import Conflict, InvalidFacts
from workflow.storage.models import User


def _same_identity(issuer: str, subject: str) -> ColumnElement[bool]:
    """Rows mapped to (issuer, subject), or to `subject` with no issuer: a mapping made
    before issuers were stored (migration 0011), which the configured issuer matches."""
    return (User.oidc_subject == subject) & or_(
        User.oidc_issuer == issuer, User.oidc_issuer.is_(None)
    )


def user_for_identity(session: Session, identity: Identity) -> User | None:
    """The user `identity` reaches, or None. check_identity keeps this to one row."""
    user = session.scalar(select(User).where(_same_identity(identity.issuer, identity.subject)))
    if user is None and identity.username is not None:
        user = session.scalar(
            select(User).where(User.username == identity.username, User.oidc_subject.is_(None))
        )
    return user


def check_identity(session: Session, user: User | None, issuer: str | None, subject: str) -> None:
    """One account per identity: a subject needs its issuer, and no other user than
    `user` may be mapped to it."""
    if not issuer or not issuer.strip():
        raise InvalidFacts("a sign-on subject needs its issuer", "oidc_issuer")
    if not subject.strip():
        raise InvalidFacts("a sign-on subject must not be empty", "oidc_subject")
    stmt = select(User.username).where(_same_identity(issuer, subject))
    if user is not None:
        stmt = stmt.where(User.id != user.id)
    holder = session.scalar(stmt)
    if holder is not None:
        raise Conflict(f"that sign-on identity is already mapped to user {holder!r}")


def set_sign_on(
    session: Session,
    user: User,
    issuer: str | None,
    subject: str | None,
    *,
    now: datetime,
    by: Actor,
) -> None:
    """Map the user to one sign-on identity (issuer + subject) or, with `subject` None,
    to none (they then sign on with API tokens, or by username where that is allowed).
    The audit record names the issuer, never the subject (at some issuers an e-mail
    address)."""
    if subject is None:
        had = user.oidc_subject is not None
        user.oidc_issuer = user.oidc_subject = None
        session.flush()
        record(session, by, now, "account.sign_on_cleared", user_detail(user), changed=had)
        return
    check_identity(session, user, issuer, subject)
    before = (user.oidc_issuer, user.oidc_subject)
    user.oidc_issuer, user.oidc_subject = issuer, subject
    session.flush()
    changed = before != (issuer, subject)
    detail = {**user_detail(user), "issuer": issuer, "replaced": before[1] is not None and changed}
    record(session, by, now, "account.sign_on_mapped", detail, changed=changed)
