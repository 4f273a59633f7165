"""Single sign-on reaches a mapped user only by issuer + subject, never by a username claim
(issue 13, item 4), and mapping a user is audited without the subject."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from tests.access.test_sign_on_and_cli import ISSUER, _jwks, _sso_app, _token
from tests.support.factories import NOW
from tests.support.world import ADMIN, World
from workflow.access import accounts, sign_on
from workflow.access.account_audit import Actor
from workflow.audit import chain
from workflow.core.errors import Conflict, InvalidFacts
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord, User

MAPPED = "idp|alice-7731"
FIVE_MINUTES = timedelta(minutes=5)


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _add_alice(database: Database, issuer: str | None = ISSUER) -> None:
    def run(s: Session) -> None:
        user = accounts.create_user(
            s, "alice", "Alice", NOW, oidc_issuer=issuer, oidc_subject=MAPPED, by=ADMIN
        )
        accounts.grant_role(
            s, user, accounts.get_partnership(s, "alpha"), "viewer", now=NOW, by=ADMIN
        )

    database.write(run)


@pytest.mark.parametrize("match_username", [False, True])
def test_a_forged_username_never_reaches_a_mapped_user(
    settings: Settings, world: World, database: Database, tmp_path: Path, match_username: bool
) -> None:
    key, jwks = _jwks(tmp_path)
    _add_alice(database)
    with TestClient(_sso_app(settings, jwks, match_username=match_username)) as c:
        forged = _token(key, "alice", FIVE_MINUTES, sub="idp|mallory-0001")
        refused = c.get("/api/v1/me", headers=_bearer(forged))
        assert refused.status_code == 401
        assert "alice" not in refused.text
        # the mapped subject is alice, whatever its username claim says
        real = _token(key, "someone-else", FIVE_MINUTES, sub=MAPPED)
        me = c.get("/api/v1/me", headers=_bearer(real))
        assert me.status_code == 200
        assert me.json()["username"] == "alice"


def test_without_the_setting_no_username_claim_is_matched(
    settings: Settings, world: World, tmp_path: Path
) -> None:
    key, jwks = _jwks(tmp_path)
    with TestClient(_sso_app(settings, jwks, match_username=False)) as c:
        unmapped = _token(key, "la.officer", FIVE_MINUTES)  # an unmapped user's username
        assert c.get("/api/v1/me", headers=_bearer(unmapped)).status_code == 401


def test_a_subject_of_another_issuer_does_not_match(
    settings: Settings, world: World, database: Database, tmp_path: Path
) -> None:
    key, jwks = _jwks(tmp_path)
    _add_alice(database, issuer="https://other-idp.example.test")
    with TestClient(_sso_app(settings, jwks, match_username=True)) as c:
        same_sub = _token(key, "alice", FIVE_MINUTES, sub=MAPPED)  # ISSUER's, not the other's
        assert c.get("/api/v1/me", headers=_bearer(same_sub)).status_code == 401


def test_a_mapping_from_before_issuers_were_stored_matches_the_configured_issuer(
    settings: Settings, world: World, database: Database, tmp_path: Path
) -> None:
    key, jwks = _jwks(tmp_path)
    database.write(
        lambda s: s.add(
            User(
                id=uuid.uuid4(),
                username="legacy",
                display_name="Legacy",
                is_active=True,
                is_system_admin=False,
                oidc_issuer=None,
                oidc_subject="idp|legacy-1",
                created_at=NOW,
            )
        )
    )
    with TestClient(_sso_app(settings, jwks, match_username=True)) as c:
        token = _token(key, "whoever", FIVE_MINUTES, sub="idp|legacy-1")
        assert c.get("/api/v1/me", headers=_bearer(token)).json()["username"] == "legacy"
        forged = _token(key, "legacy", FIVE_MINUTES, sub="idp|someone-else")
        assert c.get("/api/v1/me", headers=_bearer(forged)).status_code == 401


def test_mapping_a_user_is_audited_without_the_subject(world: World, database: Database) -> None:
    admin = world.principals[("alpha", "partnership_admin")]
    by = Actor.of(admin, "192.0.2.7 admin-page")  # as an admin page would pass it
    user_id = database.read(lambda s: accounts.get_user(s, "la.officer").id)

    def map_to(subject: str | None) -> None:
        database.write(
            lambda s: sign_on.set_sign_on(
                s,
                accounts.get_user(s, "la.officer"),
                ISSUER if subject else None,
                subject,
                now=NOW,
                by=by,
            )
        )

    map_to("idp|officer-1")
    map_to("idp|officer-2")
    map_to("idp|officer-2")
    map_to(None)
    trail = database.read(
        lambda s: list(
            s.scalars(
                select(AuditRecord)
                .where(AuditRecord.chain == chain.SYSTEM_CHAIN, AuditRecord.actor == admin.username)
                .order_by(AuditRecord.seq)
            )
        )
    )
    assert [(r.action, r.outcome, r.detail.get("replaced")) for r in trail] == [
        ("account.sign_on_mapped", "ok", False),
        ("account.sign_on_mapped", "ok", True),
        ("account.sign_on_mapped", "unchanged", False),
        ("account.sign_on_cleared", "ok", None),
    ]
    assert {r.client for r in trail} == {"192.0.2.7 admin-page"}
    assert all(r.detail["user_id"] == str(user_id) for r in trail)
    assert trail[0].detail["issuer"] == ISSUER
    assert "officer-" not in str([r.detail for r in trail])  # the subject is not recorded
    assert all(r.ok for r in database.read(chain.verify_all))


def test_one_account_per_identity(world: World, database: Database) -> None:
    _add_alice(database)

    def officer(s: Session) -> User:
        return accounts.get_user(s, "la.officer")

    with pytest.raises(Conflict, match="alice"):
        database.write(
            lambda s: sign_on.set_sign_on(s, officer(s), ISSUER, MAPPED, now=NOW, by=ADMIN)
        )
    with pytest.raises(InvalidFacts, match="issuer") as info:
        database.write(lambda s: sign_on.set_sign_on(s, officer(s), None, "x", now=NOW, by=ADMIN))
    assert info.value.field == "oidc_issuer"
    # the same subject of another issuer is another identity
    other = "https://other-idp.example.test"
    database.write(lambda s: sign_on.set_sign_on(s, officer(s), other, MAPPED, now=NOW, by=ADMIN))
