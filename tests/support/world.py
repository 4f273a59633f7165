"""Three partnerships, a user per role in each, and their API tokens."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tests.support.factories import NOW
from workflow.access import accounts
from workflow.access.account_audit import Actor
from workflow.access.permissions import Role
from workflow.access.principal import Principal
from workflow.storage.database import Database
from workflow.storage.models import User

PARTNERSHIPS = ("alpha", "beta", "gamma")
ROLES = tuple(r.value for r in Role if r is not Role.NATIONAL)
ADMIN = Actor("test:admin", "test")  # who sets accounts up in tests (audited like the CLI)


@dataclass
class World:
    tokens: dict[tuple[str, str], str] = field(default_factory=dict)  # (partnership, role)
    principals: dict[tuple[str, str], Principal] = field(default_factory=dict)
    officer_token: str = ""  # alpha: notifier + review_group
    officer: Principal | None = None
    national_token: str = ""

    def token(self, partnership: str, role: str) -> str:
        return self.tokens[(partnership, role)]

    def username(self, partnership: str, role: str) -> str:
        """The user holding `role` in `partnership` (tests/support/web.py gives passwords)."""
        return self.principals[(partnership, role)].username

    def auth(self, partnership: str, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(partnership, role)}"}


def build_world(database: Database) -> World:
    world = World()

    def run(s: Session) -> None:
        parts = {
            code: accounts.create_partnership(s, code, f"{code.title()} partnership", NOW, by=ADMIN)
            for code in PARTNERSHIPS
        }
        for code, partnership in parts.items():
            for role in ROLES:
                user = accounts.create_user(s, f"{code}-{role}", f"{code} {role}", NOW, by=ADMIN)
                accounts.grant_role(s, user, partnership, role, now=NOW, by=ADMIN)
                issued = accounts.create_token(s, user, "test", NOW, by=ADMIN)
                world.tokens[(code, role)] = issued.secret
                world.principals[(code, role)] = accounts.principal_for(s, user)
        officer = accounts.create_user(s, "la.officer", "LA officer", NOW, by=ADMIN)
        for role in (Role.NOTIFIER, Role.REVIEW_GROUP):
            accounts.grant_role(s, officer, parts["alpha"], role, now=NOW, by=ADMIN)
        world.officer_token = accounts.create_token(s, officer, "test", NOW, by=ADMIN).secret
        world.officer = accounts.principal_for(s, officer)
        national = accounts.create_user(s, "panel", "National Panel", NOW, by=ADMIN)
        accounts.grant_role(s, national, parts["alpha"], Role.NATIONAL, now=NOW, by=ADMIN)
        world.national_token = accounts.create_token(s, national, "test", NOW, by=ADMIN).secret

    database.write(run)
    return world


def reload(database: Database, username: str) -> Principal:
    """A fresh Principal (e.g. after a reviewer was assigned a case)."""
    return database.read(lambda s: accounts.principal_for(s, accounts.get_user(s, username)))


def user_id(database: Database, username: str) -> object:
    return database.read(lambda s: accounts.get_user(s, username).id)


__all__ = ["ADMIN", "PARTNERSHIPS", "ROLES", "User", "World", "build_world", "reload"]
