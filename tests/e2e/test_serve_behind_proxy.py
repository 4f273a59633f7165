"""`casereview serve` behind a reverse proxy and over TLS: which forwarded headers it
believes, and when the session cookie is Secure. Real servers on 127.0.0.1."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import sqlite3
import ssl
import subprocess
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import uvicorn
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.cli import build_parser, serve_options
from api.main import create_app
from api.web.forms import SIGN_IN_COOKIE
from api.web.session import COOKIE
from config.settings import Settings
from tests.chaos.server import free_port
from tests.e2e.test_walkthrough import CLI, ROOT
from tests.support.web import PASSWORD, csrf_of, give_password
from tests.support.world import ADMIN, World
from workflow.access import accounts
from workflow.runtime import open_database
from workflow.storage.database import Database


def _options(*argv: str, settings: Settings | None = None) -> uvicorn.Config:
    args = build_parser().parse_args(["serve", *argv])
    return uvicorn.Config("api.main:create_app", **serve_options(args, settings or Settings()))


def test_serve_trusts_forwarded_headers_only_from_configured_proxies(tmp_path: Path) -> None:
    default = _options()
    assert default.proxy_headers is False  # uvicorn's own default would trust 127.0.0.1
    flagged = _options("--forwarded-allow-ips", "10.0.0.5, 10.1.0.0/16")
    assert flagged.proxy_headers is True
    assert flagged.forwarded_allow_ips == "10.0.0.5,10.1.0.0/16"
    from_setting = _options(settings=Settings(forwarded_allow_ips="192.0.2.7"))
    assert (from_setting.proxy_headers, from_setting.forwarded_allow_ips) == (True, "192.0.2.7")
    overridden = _options("--forwarded-allow-ips", "", settings=Settings(forwarded_allow_ips="::1"))
    assert overridden.proxy_headers is False
    for bad in ("*", "proxy.example", "10.0.0.5,"):
        with pytest.raises(ValueError, match="not an IP address or network"):
            _options("--forwarded-allow-ips", bad)
    with pytest.raises(ValueError, match="no such file"):
        _options("--ssl-certfile", str(tmp_path / "missing.pem"))
    with pytest.raises(ValueError, match="needs --ssl-certfile"):
        _options("--ssl-keyfile", str(tmp_path / "key.pem"))


# --- real servers ---


def _database(tmp_path: Path, sqlite_template: Path) -> tuple[str, str]:
    """A copy of the migrated SQLite with one user who has the test password; its URL and
    the user's username."""
    with sqlite3.connect(sqlite_template) as src, sqlite3.connect(tmp_path / "c.db") as dst:
        src.backup(dst)
    url, now = f"sqlite:///{tmp_path / 'c.db'}", datetime.now(UTC)

    def run(s: Session) -> str:
        partnership = accounts.create_partnership(s, "northshire", "Northshire SCP", now, by=ADMIN)
        user = accounts.create_user(s, "sam.patel", "Sam Patel", now, by=ADMIN)
        accounts.grant_role(s, user, partnership, "viewer", now=now, by=ADMIN)
        return accounts.create_token(s, user, "proxy test", now, by=ADMIN).secret

    database = open_database(Settings(database_url=url))
    try:
        database.write(run)
        return url, give_password(database, "sam.patel")
    finally:
        database.dispose()


@contextlib.contextmanager
def _serving(
    tmp_path: Path, url: str, *args: str, scheme: str = "http", verify: ssl.SSLContext | bool = True
) -> Iterator[httpx.Client]:
    """`casereview serve ARGS` on a free loopback port; a client of it (no cookie jar
    use: the test sends the cookies it means to)."""
    port = free_port()
    env = {**os.environ, "CASEREVIEW_DATA_DIR": str(tmp_path), "CASEREVIEW_DATABASE_URL": url}
    env.pop("FORWARDED_ALLOW_IPS", None)
    log = tmp_path / f"serve-{port}.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*CLI, "serve", "--host", "127.0.0.1", "--port", str(port), *args],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=out,
            start_new_session=True,
        )
    client = httpx.Client(base_url=f"{scheme}://127.0.0.1:{port}", verify=verify, timeout=10)
    try:
        for _ in range(200):  # waiting for a process to start, not for time to pass
            if proc.poll() is not None:
                pytest.fail(f"server exited: {log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(httpx.TransportError):
                if client.get("/readyz").status_code == 200:
                    break
            time.sleep(0.1)
        else:
            pytest.fail("server did not become ready")
        yield client
    finally:
        client.close()
        proc.terminate()
        proc.wait(timeout=15)


def _set_cookie(response: httpx.Response, name: str) -> str:
    return next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{name}="))


def _sign_in(client: httpx.Client, username: str, headers: dict[str, str]) -> httpx.Response:
    """Sign in as a browser would; both responses' Set-Cookie headers in `.history`."""
    page = client.get("/session", headers=headers)
    pre_session = page.cookies[SIGN_IN_COOKIE]
    signed = client.post(
        "/session",
        data={"username": username, "password": PASSWORD, "csrf_token": csrf_of(page.text)},
        headers=headers | {"Cookie": f"{SIGN_IN_COOKIE}={pre_session}"},
    )
    assert signed.status_code == 303, signed.text
    signed.history = [page]
    return signed


def _secure(cookie: str) -> bool:
    return "secure" in [part.strip().lower() for part in cookie.split(";")]


def test_behind_a_trusted_proxy_forwarded_https_makes_the_cookie_secure(
    tmp_path: Path, sqlite_template: Path
) -> None:
    url, token = _database(tmp_path, sqlite_template)
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with _serving(tmp_path, url, "--forwarded-allow-ips", "127.0.0.1") as client:
        signed = _sign_in(client, token, https)
        assert _secure(_set_cookie(signed, COOKIE))
        assert _secure(_set_cookie(signed.history[0], SIGN_IN_COOKIE))
        assert token not in str(signed.headers.get_list("set-cookie"))
        plain = _sign_in(client, token, {})  # the proxy says plain http
        assert not _secure(_set_cookie(plain, COOKIE))


def test_from_an_untrusted_address_forwarded_headers_are_ignored(
    tmp_path: Path, sqlite_template: Path
) -> None:
    url, token = _database(tmp_path, sqlite_template)
    https = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.9"}
    with _serving(tmp_path, url, "--forwarded-allow-ips", "192.0.2.1") as client:
        signed = _sign_in(client, token, https)  # from 127.0.0.1, not the proxy
        assert not _secure(_set_cookie(signed, COOKIE))
        assert not _secure(_set_cookie(signed.history[0], SIGN_IN_COOKIE))


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_serve_over_tls_sets_a_secure_cookie(tmp_path: Path, sqlite_template: Path) -> None:
    url, token = _database(tmp_path, sqlite_template)
    cert, key = _self_signed(tmp_path)
    trust = ssl.create_default_context(cafile=str(cert))
    tls = ("--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    with _serving(tmp_path, url, *tls, scheme="https", verify=trust) as client:
        signed = _sign_in(client, token, {})
        assert _secure(_set_cookie(signed, COOKIE))


def test_cookie_secure_always_forces_secure_over_plain_http(
    settings: Settings, world: World, database: Database
) -> None:
    give_password(database, "la.officer")
    app = create_app(settings.model_copy(update={"cookie_secure": "always"}))
    with TestClient(app) as client:
        page = client.get("/session")
        pre_session = _set_cookie(page, SIGN_IN_COOKIE)
        assert _secure(pre_session)
        signed = client.post(
            "/session",
            data={"username": "la.officer", "password": PASSWORD, "csrf_token": csrf_of(page.text)},
            headers={"Cookie": pre_session.split(";")[0]},
            follow_redirects=False,
        )
        assert signed.status_code == 303
        assert _secure(_set_cookie(signed, COOKIE))
