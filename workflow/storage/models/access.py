"""Who may use the engine: partnerships (tenants), users, memberships with roles,
and API tokens (stored only as a SHA-256 hash)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.storage.models.base import Base, UTCDateTime


class Partnership(Base):
    """A safeguarding partnership: the local authority, police and ICB of an area."""

    __tablename__ = "partnership"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    division: Mapped[str] = mapped_column(String(32), default="england-and-wales")
    # england | wales | scotland | northern_ireland (workflow/core/nations.py): picks the
    # default rulebook of new cases, and so their calendar and words (migration 0011)
    nation: Mapped[str] = mapped_column(String(32), default="england", server_default="england")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class User(Base):
    """A person who may sign in. Single sign-on reaches them by (oidc_issuer, oidc_subject);
    an oidc_issuer of None is a mapping made before issuers were stored (0011), which the
    configured issuer's tokens match."""

    __tablename__ = "app_user"  # "user" is reserved in PostgreSQL
    __table_args__ = (UniqueConstraint("oidc_issuer", "oidc_subject"),)

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    username: Mapped[str] = mapped_column(String(128), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_system_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    oidc_issuer: Mapped[str | None] = mapped_column(String(255))
    oidc_subject: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # where e-mail subscriptions addressed to a role reach this user (none: not reached)
    email: Mapped[str | None] = mapped_column(String(320))


class Membership(Base):
    """One role of a user in one partnership."""

    __tablename__ = "membership"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    partnership_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partnership.id"), primary_key=True
    )
    role: Mapped[str] = mapped_column(String(32), primary_key=True)


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class FeedToken(Base):
    """A revocable token for one partnership's calendar (.ics) feed. Calendar clients
    cannot send headers, so the token travels in the URL: it grants that feed only."""

    __tablename__ = "feed_token"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    partnership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partnership.id"))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebSession(Base):
    """A signed-in browser (workflow/access/sessions.py). The cookie holds a random id;
    only its SHA-256 is stored, so a copy of the database signs no one in. A row is
    valid while `ended_at` is null and neither the idle nor the absolute timeout has
    passed; it is ended, never reopened."""

    __tablename__ = "web_session"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    method: Mapped[str] = mapped_column(String(16))  # how the user signed in: api_token
    csrf_secret: Mapped[str] = mapped_column(String(64))  # proves the forms of this session
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    end_reason: Mapped[str | None] = mapped_column(String(32))


class UserPassword(Base):
    """A user's password, as an Argon2id hash only (workflow/access/passwords.py)."""

    __tablename__ = "user_password"

    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime)


class PasswordInvite(Base):
    """A one-time set-password link: only the SHA-256 of its token is stored. Valid
    until `expires_at` and while `used_at` is null; issuing a new one ends older ones."""

    __tablename__ = "password_invite"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SignInFailures(Base):
    """Failed password sign-ins counted per key ("user:<username>" or "addr:<address>"),
    shared by every worker process through the database. `locked_until` set: the key
    is refused until then, whatever the password."""

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer)
    first_failed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
