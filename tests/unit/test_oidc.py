"""Tests for workflow.access.oidc: OpenID Connect token verification against a JWKS.

Keys are generated per test session with `cryptography`; tokens are minted with PyJWT
(or by hand, for the attacks PyJWT refuses to mint). The only network is loopback.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import socket
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from workflow.access.oidc import (
    Identity,
    InvalidToken,
    KeySetUnavailable,
    OidcConfig,
    OidcVerifier,
    looks_like_jwt,
)

ISSUER = "https://login.example.test/realms/partnership"
AUDIENCE = "casereview"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
T0 = int(NOW.timestamp())
SUB = "f3b1c2d4-0000-4000-8000-000000000001"
ALICE = Identity(ISSUER, SUB)  # issuer + subject; no username unless match_username

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())
OTHER_RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def rsa_jwk(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig", "alg": "RS256"}


def ec_jwk(key: ec.EllipticCurvePrivateKey, kid: str) -> dict[str, Any]:
    jwk: dict[str, Any] = json.loads(ECAlgorithm.to_jwk(key.public_key()))
    return {**jwk, "kid": kid, "use": "sig"}  # no "alg": inferred from the curve


def write_jwks(path: Path, *keys: dict[str, Any]) -> Path:
    path.write_text(json.dumps({"keys": list(keys)}), encoding="utf-8")
    return path


def claims(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": SUB,
        "preferred_username": "alice",
        "email": "alice@example.test",
        "iat": T0,
        "exp": T0 + 300,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def mint(
    key: Any = RSA_KEY, alg: str = "RS256", kid: str | None = "rsa-1", **overrides: Any
) -> str:
    headers = {"kid": kid} if kid is not None else None
    return jwt.encode(claims(**overrides), key, algorithm=alg, headers=headers)


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made(
    header: dict[str, Any], payload: dict[str, Any], sign: Callable[[bytes], bytes]
) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    return f"{signing_input}.{b64(sign(signing_input.encode()))}"


@pytest.fixture
def jwks_file(tmp_path: Path) -> Path:
    return write_jwks(tmp_path / "jwks.json", rsa_jwk(RSA_KEY, "rsa-1"), ec_jwk(EC_KEY, "ec-1"))


@pytest.fixture
def verifier(jwks_file: Path) -> OidcVerifier:
    return OidcVerifier(OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks_file))


def refused(verifier: OidcVerifier, token: str, fragment: str, **kw: Any) -> InvalidToken:
    with pytest.raises(InvalidToken) as info:
        verifier.verify(token, now=kw.get("now", NOW))
    message = str(info.value)
    assert fragment in message
    assert token not in message or not token
    for segment in token.split("."):
        assert len(segment) < 8 or segment not in message
    return info.value


# --- valid tokens ------------------------------------------------------------------------


def test_valid_rs256_token_verifies_and_names_the_user(verifier: OidcVerifier) -> None:
    got = verifier.verify(mint(), now=NOW)
    assert got["iss"] == ISSUER
    assert got["aud"] == AUDIENCE
    assert verifier.identity(got) == ALICE


def test_valid_es256_token_verifies(verifier: OidcVerifier) -> None:
    got = verifier.verify(mint(EC_KEY, "ES256", "ec-1"), now=NOW)
    assert verifier.identity(got) == ALICE


def test_audience_list_containing_ours_is_accepted(verifier: OidcVerifier) -> None:
    got = verifier.verify(mint(aud=["account", AUDIENCE]), now=NOW)
    assert AUDIENCE in got["aud"]


def test_the_username_claim_is_read_only_where_configured(jwks_file: Path) -> None:
    def config(**kw: Any) -> OidcVerifier:
        return OidcVerifier(OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks_file, **kw))

    by_email = config(user_claim="email", match_username=True)
    got = by_email.identity(by_email.verify(mint(), now=NOW))
    assert got == Identity(ISSUER, SUB, "alice@example.test")
    by_name = config(match_username=True)
    assert by_name.identity(by_name.verify(mint(), now=NOW)).username == "alice"
    off = config(user_claim="email")  # a claim named, but matching usernames is off
    assert off.identity(off.verify(mint(), now=NOW)) == ALICE


def test_token_without_kid_uses_the_only_key(tmp_path: Path) -> None:
    path = write_jwks(tmp_path / "one.json", rsa_jwk(RSA_KEY, "rsa-1"))
    single = OidcVerifier(OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_file=path))
    assert single.identity(single.verify(mint(kid=None), now=NOW)) == ALICE


def test_without_now_the_real_clock_is_used(verifier: OidcVerifier) -> None:
    t = int(datetime.now(UTC).timestamp())
    assert verifier.verify(mint(iat=t, exp=t + 60))["exp"] == t + 60
    refused_token = mint(iat=T0, exp=T0 + 60)  # NOW is in the past
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(refused_token)


# --- time ----------------------------------------------------------------------------------


def test_expired_token_is_refused(verifier: OidcVerifier) -> None:
    token = mint(exp=T0 + 300)
    assert verifier.verify(token, now=NOW + timedelta(seconds=300 + 29))  # within 30 s leeway
    refused(verifier, token, "token has expired", now=NOW + timedelta(seconds=300 + 30))
    refused(verifier, token, "token has expired", now=NOW + timedelta(days=1))


def test_naive_now_is_taken_as_utc(verifier: OidcVerifier) -> None:
    naive = (NOW + timedelta(hours=1)).replace(tzinfo=None)
    with pytest.raises(InvalidToken, match="expired"):
        verifier.verify(mint(), now=naive)


def test_not_yet_valid_token_is_refused(verifier: OidcVerifier) -> None:
    refused(verifier, mint(nbf=T0 + 120), "token is not yet valid")
    refused(verifier, mint(iat=T0 + 120), "token is not yet valid")
    assert verifier.verify(mint(nbf=T0 + 20), now=NOW)  # within leeway


def test_non_numeric_exp_is_refused(verifier: OidcVerifier) -> None:
    refused(verifier, mint(exp="tomorrow"), "non-numeric 'exp'")


# --- issuer, audience, required claims -----------------------------------------------------


def test_wrong_issuer_is_refused(verifier: OidcVerifier) -> None:
    refused(verifier, mint(iss="https://evil.example.test/"), "wrong issuer")


def test_wrong_audience_is_refused(verifier: OidcVerifier) -> None:
    refused(verifier, mint(aud="some-other-app"), "wrong audience")
    refused(verifier, mint(aud=["account"]), "wrong audience")


@pytest.mark.parametrize("claim", ["exp", "iss", "aud", "sub"])
def test_required_claim_missing_is_refused(verifier: OidcVerifier, claim: str) -> None:
    dropped: dict[str, Any] = {claim: None}
    refused(verifier, mint(**dropped), f"missing the '{claim}' claim")


@pytest.mark.parametrize("value", [None, "", "   ", 42, ["alice"]])
def test_missing_or_unusable_user_claim_is_refused(jwks_file: Path, value: Any) -> None:
    matching = OidcVerifier(
        OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks_file, match_username=True)
    )
    got = matching.verify(mint(preferred_username=value), now=NOW)
    with pytest.raises(InvalidToken, match="missing the 'preferred_username' claim"):
        matching.identity(got)


@pytest.mark.parametrize("value", ["", "   ", 42, ["x"]])
def test_unusable_subject_is_refused(verifier: OidcVerifier, value: Any) -> None:
    with pytest.raises(InvalidToken, match="'sub'"):
        verifier.identity(verifier.verify(mint(sub=value), now=NOW))


# --- signatures, keys and algorithms -------------------------------------------------------


def test_signature_by_a_different_key_is_refused(verifier: OidcVerifier) -> None:
    refused(verifier, mint(OTHER_RSA_KEY), "bad signature")


def test_tampered_payload_is_refused(verifier: OidcVerifier) -> None:
    header, _, signature = mint().split(".")
    forged = b64(json.dumps(claims(preferred_username="mallory")).encode())
    refused(verifier, f"{header}.{forged}.{signature}", "bad signature")


def test_unknown_kid_is_refused(verifier: OidcVerifier) -> None:
    refused(verifier, mint(kid="rsa-2"), "unknown key id")


def test_no_kid_with_several_keys_is_refused(verifier: OidcVerifier) -> None:
    refused(verifier, mint(kid=None), "no key id")


def test_alg_none_is_refused(verifier: OidcVerifier) -> None:
    token = jwt.encode(claims(), "", algorithm="none", headers={"kid": "rsa-1"})
    assert token.endswith(".")
    with pytest.raises(InvalidToken, match="malformed"):  # no signature segment at all
        verifier.verify(token, now=NOW)
    for alg in ("none", "None", "NONE"):
        unsigned = hand_made({"alg": alg, "kid": "rsa-1"}, claims(), lambda _: b"x")
        refused(verifier, unsigned, "alg none")


def test_hs256_signed_with_the_public_key_is_refused(verifier: OidcVerifier) -> None:
    """The classic confusion attack: HMAC keyed with the server's *public* key."""
    pem = RSA_KEY.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    jwk_text = json.dumps(rsa_jwk(RSA_KEY, "rsa-1")).encode()
    for secret in (pem, jwk_text):

        def sign(data: bytes, secret: bytes = secret) -> bytes:
            return hmac.new(secret, data, hashlib.sha256).digest()

        for kid in ("rsa-1", None):
            header = {"alg": "HS256", "typ": "JWT", **({"kid": kid} if kid else {})}
            refused(verifier, hand_made(header, claims(), sign), "algorithm is not allowed")


def test_algorithm_must_match_the_selected_key(verifier: OidcVerifier) -> None:
    """An RS256 header pointing at the EC key (or vice versa) never verifies."""
    refused(verifier, mint(RSA_KEY, "RS256", "ec-1"), "does not match its signing key")
    refused(verifier, mint(EC_KEY, "ES256", "rsa-1"), "does not match its signing key")


def test_algorithm_outside_the_allow_list_is_refused(verifier: OidcVerifier) -> None:
    refused(verifier, mint(RSA_KEY, "PS256"), "algorithm is not allowed")
    refused(verifier, mint(RSA_KEY, "RS512"), "algorithm is not allowed")


# --- garbage -------------------------------------------------------------------------------

GARBAGE = [
    "",
    "not a token",
    "Bearer abc.def.ghi",
    "abc.def",
    "abc.def.ghi",  # base64url, but not JSON
    "abc.def.ghi.jkl",
    f"{b64(b'[1, 2]')}.{b64(b'{}')}.{b64(b'sig')}",  # header is not an object
    f"{b64(json.dumps({'alg': 'RS256', 'kid': 7}).encode())}.{b64(b'{}')}.{b64(b'sig')}",
    f"{b64(json.dumps({'alg': 'RS256', 'kid': 'rsa-1'}).encode())}.bm90IGpzb24.{b64(b'sig')}",
    "eyJ" + "A" * 20_000 + ".e30.c2ln",
]


@pytest.mark.parametrize("token", GARBAGE)
def test_garbage_is_refused_as_malformed(verifier: OidcVerifier, token: str) -> None:
    exc = refused(verifier, token, "")
    # a well-formed header over a non-JSON payload fails at the signature, checked first
    assert str(exc) in {"token is malformed", "token has a bad signature"}


def test_non_string_is_refused(verifier: OidcVerifier) -> None:
    with pytest.raises(InvalidToken, match="malformed"):
        verifier.verify(b"abc.def.ghi", now=NOW)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln", True),
        ("a.b.c", True),
        ("a-_9.B-_0.c-_Z", True),
        ("a.b.", False),  # unsigned: no third segment
        (".b.c", False),
        ("a.b", False),
        ("a.b.c.d", False),
        ("a.b.c=", False),  # base64url in JWTs carries no padding
        ("a+b.c/d.e", False),  # standard base64, not base64url
        ("a.b.c ", False),
        (" a.b.c", False),
        ("a.b.c\n", False),
        ("", False),
        ("cr_live_0123456789abcdef", False),  # an opaque API token
        ("a." * 3 + "b", False),
    ],
)
def test_looks_like_jwt(token: str, expected: bool) -> None:
    assert looks_like_jwt(token) is expected


# --- configuration and the JWKS file --------------------------------------------------------


def test_config_needs_exactly_one_key_source(jwks_file: Path) -> None:
    with pytest.raises(ValueError, match="exactly one"):
        OidcVerifier(OidcConfig(issuer=ISSUER, audience=AUDIENCE))
    with pytest.raises(ValueError, match="exactly one"):
        OidcVerifier(
            OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks_file, jwks_url="http://x/")
        )


@pytest.mark.parametrize("algorithms", [(), ("RS256", "HS256"), ("none",), ("hs512",)])
def test_config_refuses_symmetric_or_no_algorithms(
    jwks_file: Path, algorithms: tuple[str, ...]
) -> None:
    with pytest.raises(ValueError, match="algorithms"):
        OidcVerifier(
            OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_file=jwks_file, algorithms=algorithms)
        )


@pytest.mark.parametrize(
    "content",
    [
        "not json",
        "[]",
        '{"keys": []}',
        json.dumps({"keys": [{"kty": "oct", "k": b64(b"secret"), "kid": "h"}]}),
        json.dumps({"keys": [{**rsa_jwk(RSA_KEY, "enc-1"), "use": "enc"}]}),
    ],
)
def test_unusable_jwks_file_is_refused_at_construction(tmp_path: Path, content: str) -> None:
    path = tmp_path / "jwks.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match="unusable JWKS file"):
        OidcVerifier(OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_file=path))
    with pytest.raises(ValueError, match="unusable JWKS file"):
        OidcVerifier(OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_file=tmp_path / "nope"))


def test_jwks_file_is_reread_when_its_mtime_changes(
    jwks_file: Path, verifier: OidcVerifier
) -> None:
    rotated = mint(OTHER_RSA_KEY, kid="rsa-2")
    refused(verifier, rotated, "unknown key id")

    write_jwks(jwks_file, rsa_jwk(OTHER_RSA_KEY, "rsa-2"))
    stat = jwks_file.stat()
    os.utime(jwks_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert verifier.identity(verifier.verify(rotated, now=NOW)) == ALICE
    refused(verifier, mint(), "unknown key id")  # the old key is gone

    jwks_file.write_text("{ half-written", encoding="utf-8")  # a bad re-read keeps the keys
    os.utime(jwks_file, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))
    assert verifier.verify(rotated, now=NOW)


def test_jwks_file_is_not_reread_while_its_mtime_is_unchanged(
    jwks_file: Path, verifier: OidcVerifier
) -> None:
    stat = jwks_file.stat()
    write_jwks(jwks_file, rsa_jwk(OTHER_RSA_KEY, "rsa-2"))
    os.utime(jwks_file, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert verifier.verify(mint(), now=NOW)  # still the keys read at construction


# --- the JWKS URL mode, against a loopback server --------------------------------------------


class JwksServer:
    def __init__(self) -> None:
        self.jwks: dict[str, Any] = {"keys": [rsa_jwk(RSA_KEY, "rsa-1")]}
        self.hits = 0
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                owner.hits += 1
                body = json.dumps(owner.jwks).encode()
                self.send_response(200 if self.path == "/jwks" else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/jwks"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)


@pytest.fixture
def jwks_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[JwksServer]:
    for var in ("http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    server = JwksServer()
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()
        server.thread.join(timeout=5)


def url_verifier(url: str) -> OidcVerifier:
    return OidcVerifier(OidcConfig(issuer=ISSUER, audience=AUDIENCE, jwks_url=url))


def test_jwks_url_mode_verifies_and_caches(jwks_server: JwksServer) -> None:
    verifier = url_verifier(jwks_server.url)
    assert jwks_server.hits == 0  # fetched lazily
    assert verifier.identity(verifier.verify(mint(), now=NOW)) == ALICE
    assert verifier.verify(mint(), now=NOW)
    assert jwks_server.hits == 1  # the key set is cached
    refused(verifier, mint(OTHER_RSA_KEY), "bad signature")
    refused(verifier, mint(iss="https://evil.example.test/"), "wrong issuer")


def test_jwks_url_mode_refetches_once_for_an_unknown_kid(jwks_server: JwksServer) -> None:
    verifier = url_verifier(jwks_server.url)
    assert verifier.verify(mint(), now=NOW)
    jwks_server.jwks = {"keys": [rsa_jwk(RSA_KEY, "rsa-1"), ec_jwk(EC_KEY, "ec-1")]}
    assert verifier.verify(mint(EC_KEY, "ES256", "ec-1"), now=NOW)  # key rotation picked up
    assert jwks_server.hits == 2
    refused(verifier, mint(kid="rsa-9"), "unknown key id")
    refused(verifier, mint(kid="rsa-8"), "unknown key id")
    assert jwks_server.hits == 2  # refetching is rate-limited


def test_jwks_url_unreachable_raises_key_set_unavailable(jwks_server: JwksServer) -> None:
    with socket.socket() as sock:  # a loopback port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    verifier = url_verifier(f"http://127.0.0.1:{port}/jwks")
    with pytest.raises(KeySetUnavailable, match="signing keys are unavailable"):
        verifier.verify(mint(), now=NOW)
    with pytest.raises(KeySetUnavailable):
        url_verifier(jwks_server.url.replace("/jwks", "/missing")).verify(mint(), now=NOW)
