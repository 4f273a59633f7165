"""Single sign-on through the API, and the account CLI end to end."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import FastAPI
from fastapi.testclient import TestClient

from api.cli import main
from api.deps import get_now
from api.main import create_app
from config.settings import Settings, get_settings
from tests.support.factories import NOW, incident
from tests.support.world import World

ISSUER, AUDIENCE = "https://sso.example.test", "casereview"


def _jwks(tmp_path: Path) -> tuple[rsa.RSAPrivateKey, Path]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update({"kid": "k1", "alg": "RS256", "use": "sig"})
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [jwk]}))
    return key, path


def _token(key: rsa.RSAPrivateKey, user: str, expires_in: timedelta, sub: str | None = None) -> str:
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub or f"idp|{user}",
        "preferred_username": user,
        "exp": int((NOW + expires_in).timestamp()),
        "iat": int(NOW.timestamp()),
    }
    return jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})


def _sso_app(settings: Settings, jwks: Path, *, match_username: bool) -> FastAPI:
    sso = settings.model_copy(
        update={
            "oidc_issuer": ISSUER,
            "oidc_audience": AUDIENCE,
            "oidc_jwks_file": jwks,
            "oidc_match_username": match_username,
        }
    )
    app = create_app(sso)
    app.dependency_overrides[get_now] = lambda: NOW
    return app


def test_single_sign_on_maps_a_claim_to_a_user_where_configured(
    settings: Settings, world: World, tmp_path: Path
) -> None:
    key, jwks = _jwks(tmp_path)
    app = _sso_app(settings, jwks, match_username=True)
    with TestClient(app) as c:
        good = {"Authorization": f"Bearer {_token(key, 'la.officer', timedelta(minutes=5))}"}
        me = c.get("/api/v1/me", headers=good)
        assert me.status_code == 200
        assert me.json()["username"] == "la.officer"
        created = c.post("/api/v1/incidents", json=incident(), headers=good)
        assert created.status_code == 201
        events = c.get(f"/api/v1/cases/{created.json()['id']}/timeline", headers=good).json()
        assert events["items"][0]["actor"] == "la.officer"
        expired = _token(key, "la.officer", timedelta(minutes=-5))
        refused = c.get("/api/v1/me", headers={"Authorization": f"Bearer {expired}"})
        assert refused.status_code == 401
        assert "expired" in refused.json()["detail"]
        stranger = _token(key, "nobody", timedelta(minutes=5))
        assert (
            c.get("/api/v1/me", headers={"Authorization": f"Bearer {stranger}"}).status_code == 401
        )
        api_token = c.get("/api/v1/me", headers={"Authorization": f"Bearer {world.officer_token}"})
        assert api_token.status_code == 200  # API tokens keep working beside single sign-on


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def _token_from(output: str) -> str:
    return next(line.strip() for line in output.splitlines() if line.strip().startswith("crt_"))


def test_cli_setup_users_tokens_and_revocation(
    cli_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["setup", "--admin", "root", "--partnership", "north"]) == 0
    admin_token = _token_from(capsys.readouterr().out)
    assert main(["setup", "--if-needed"]) == 0
    assert "already done" in capsys.readouterr().out
    assert main(["users", "add", "vic", "--partnership", "north", "--role", "viewer"]) == 0
    assert main(["tokens", "create", "vic", "--label", "dashboard"]) == 0
    viewer_token = _token_from(capsys.readouterr().out)
    app = create_app(cli_env)
    with TestClient(app) as c:
        me = c.get("/api/v1/me", headers={"Authorization": f"Bearer {admin_token}"}).json()
        assert {m["role"] for m in me["memberships"]} == {
            "partnership_admin",
            "notifier",
            "review_group",
        }
        vic = {"Authorization": f"Bearer {viewer_token}"}
        assert c.get("/api/v1/cases", headers=vic).status_code == 200
        assert main(["tokens", "list", "vic"]) == 0
        listing = capsys.readouterr().out
        token_id = listing.split()[0]
        assert "active" in listing
        assert viewer_token not in listing
        assert main(["tokens", "revoke", token_id]) == 0
        assert c.get("/api/v1/cases", headers=vic).status_code == 401
    assert main(["audit", "verify"]) == 0
    assert main(["users", "add", "vic"]) == 2  # duplicate: clear error, exit 2
    assert "already exists" in capsys.readouterr().err
