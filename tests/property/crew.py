"""The people of one hypothesis example: a partnership of its own, so examples that
share a database never see each other's cases, audit chain or idempotency keys."""

from __future__ import annotations

import itertools
import uuid
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from tests.support.factories import NOW
from tests.support.world import ADMIN
from workflow.access import accounts
from workflow.access.principal import Principal
from workflow.storage.database import Database

# Who acts in the machines: the two roles that run the process, the assigned reviewer,
# roles that may not command, and a review group member of another partnership.
ACTORS = ("notifier", "review_group", "reviewer", "viewer", "action_owner", "admin", "outsider")
ROLE_OF = {"admin": "partnership_admin", "outsider": "review_group"}
_serial = itertools.count(1)


@dataclass
class Crew:
    code: str  # the example's partnership (its audit chain has the same name)
    other: str  # the outsider's partnership
    usernames: dict[str, str] = field(default_factory=dict)
    principals: dict[str, Principal] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)

    def auth(self, actor: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[actor]}"}


def make_crew(database: Database) -> Crew:
    """A new partnership with one user per actor (and the outsider's partnership)."""
    tag = f"{next(_serial)}{uuid.uuid4().hex[:6]}"
    crew = Crew(code=f"p{tag}", other=f"x{tag}")

    def run(s: Session) -> None:
        home = accounts.create_partnership(s, crew.code, f"Example {tag}", NOW, by=ADMIN)
        away = accounts.create_partnership(s, crew.other, f"Other {tag}", NOW, by=ADMIN)
        for actor in ACTORS:
            user = accounts.create_user(s, f"{crew.code}.{actor}", actor, NOW, by=ADMIN)
            role = ROLE_OF.get(actor, actor)
            where = away if actor == "outsider" else home
            accounts.grant_role(s, user, where, role, now=NOW, by=ADMIN)
            crew.usernames[actor] = user.username
            crew.tokens[actor] = accounts.create_token(s, user, "props", NOW, by=ADMIN).secret
            crew.principals[actor] = accounts.principal_for(s, user)

    database.write(run)
    return crew


def principal(database: Database, crew: Crew, actor: str) -> Principal:
    """The actor as of now (a reviewer's assigned cases change when commissioned)."""
    if actor != "reviewer":
        return crew.principals[actor]
    name = crew.usernames[actor]
    return database.read(lambda s: accounts.principal_for(s, accounts.get_user(s, name)))
