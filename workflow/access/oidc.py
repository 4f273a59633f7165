"""Optional single sign-on: verify OpenID Connect JWTs against a JWKS file or URL. Pure.

A JWK without "alg" gets its type's default (RSA: RS256, EC: ES256/384/512 by curve); a
token's "alg" must equal its key's, so none/HS* and key-confusion tokens never verify.

A verified token names a person by issuer + subject (`iss` + `sub`, which the issuer
never reassigns). A username claim (`preferred_username`, `email`, ...) is whatever the
person or an issuer's administrator typed: it is read only where the deployment asks
for it (`match_username`), and accounts.authenticate_identity never lets it reach an
account that is mapped to a subject."""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from math import isnan
from pathlib import Path
from typing import Any

import jwt

_JWT_RE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")
_MAX_TOKEN_CHARS = 16_384
_MIN_REFRESH_SECONDS = 60.0  # unknown kid -> refetch the JWKS URL at most this often

_ERRORS: tuple[tuple[type[Exception], str], ...] = (
    (jwt.InvalidIssuerError, "token has the wrong issuer"),
    (jwt.InvalidAudienceError, "token has the wrong audience"),
    (jwt.InvalidSignatureError, "token has a bad signature"),
    (jwt.exceptions.InvalidSubjectError, "token is missing the 'sub' claim"),  # not a string
)


class InvalidToken(Exception):
    """The token was refused. The message is safe to show a client: it never echoes it."""


class KeySetUnavailable(InvalidToken):
    """The JWKS could not be fetched: the server's problem, not the token's (think 503)."""


@dataclass(frozen=True)
class OidcConfig:
    issuer: str
    audience: str
    jwks_file: Path | None = None
    jwks_url: str | None = None
    user_claim: str = "preferred_username"  # matched to usernames only with match_username
    match_username: bool = False
    algorithms: tuple[str, ...] = ("RS256", "ES256")
    leeway_seconds: int = 30


@dataclass(frozen=True)
class Identity:
    """Who a verified token names: `issuer` + `subject`, and the username claim's value
    where the deployment matches it (None otherwise)."""

    issuer: str
    subject: str
    username: str | None = None


def looks_like_jwt(token: str) -> bool:
    """True if `token` is three non-empty base64url segments separated by dots."""
    return len(token) <= _MAX_TOKEN_CHARS and _JWT_RE.fullmatch(token) is not None


class OidcVerifier:
    def __init__(self, config: OidcConfig) -> None:
        if (config.jwks_file is None) == (config.jwks_url is None):
            raise ValueError("OIDC needs exactly one of jwks_file and jwks_url")
        if not config.issuer or not config.audience or not config.user_claim:
            raise ValueError("OIDC needs an issuer, an audience and a user claim")
        algs = config.algorithms
        if not algs or any(a.lower() == "none" or a.upper().startswith("HS") for a in algs):
            raise ValueError("OIDC algorithms must be asymmetric (no 'none', no HS*)")
        self.config = config
        self._lock = threading.Lock()
        self._keys: list[jwt.PyJWK] = []
        self._mtime_ns, self._last_refresh = -1, float("-inf")
        self._client = (
            None if config.jwks_url is None else jwt.PyJWKClient(config.jwks_url, timeout=5)
        )
        if self._client is None:
            self._load_file(strict=True)

    def _usable(self, jwks: jwt.PyJWKSet) -> list[jwt.PyJWK]:
        ok = self.config.algorithms
        return [
            k for k in jwks.keys if k.public_key_use in ("sig", None) and k.algorithm_name in ok
        ]

    def _load_file(self, *, strict: bool) -> None:
        """(Re)read the JWKS file if its mtime changed; a failed re-read keeps the old keys."""
        path = self.config.jwks_file
        assert path is not None
        try:
            mtime = path.stat().st_mtime_ns
            if mtime == self._mtime_ns:
                return
            keys = self._usable(jwt.PyJWKSet.from_dict(json.loads(path.read_text("utf-8"))))
            if not keys:
                raise ValueError("no key matches the allowed algorithms")
        except (OSError, ValueError, AttributeError, jwt.PyJWTError) as exc:
            if strict:
                raise ValueError(f"unusable JWKS file {path}: {exc}") from exc
            return
        self._keys, self._mtime_ns = keys, mtime

    def _current_keys(self, *, refresh: bool = False) -> list[jwt.PyJWK]:
        with self._lock:
            if self._client is None:
                self._load_file(strict=False)
                return self._keys
            now = time.monotonic()
            refresh = refresh and now - self._last_refresh >= _MIN_REFRESH_SECONDS
            try:
                keys = self._usable(self._client.get_jwk_set(refresh=refresh))
            except jwt.PyJWTError as exc:
                raise KeySetUnavailable("signing keys are unavailable") from exc
            if refresh:
                self._last_refresh = now
            return keys

    def _select_key(self, kid: str | None) -> jwt.PyJWK:
        keys = self._current_keys()
        if kid is None:
            if len(keys) == 1:
                return keys[0]
            raise InvalidToken("token has no key id and the key set has several keys")
        found = next((k for k in keys if k.key_id == kid), None)
        if found is None and self._client is not None:  # the issuer may have rotated its keys
            found = next((k for k in self._current_keys(refresh=True) if k.key_id == kid), None)
        if found is None:
            raise InvalidToken("token has an unknown key id")
        return found

    def verify(self, token: str, *, now: datetime | None = None) -> Mapping[str, Any]:
        """Return the validated claims or raise InvalidToken saying what failed."""
        if not isinstance(token, str) or not looks_like_jwt(token):
            raise InvalidToken("token is malformed")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise InvalidToken("token is malformed") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg.lower() == "none":
            raise InvalidToken("unsigned tokens (alg none) are not accepted")
        if alg not in self.config.algorithms:
            raise InvalidToken("token algorithm is not allowed")
        key = self._select_key(header.get("kid"))
        if alg != key.algorithm_name:
            raise InvalidToken("token algorithm does not match its signing key")
        cfg = self.config
        try:  # exp/nbf/iat are checked below, against `now`
            claims: dict[str, Any] = jwt.decode(
                token,
                key.key,
                algorithms=[alg],
                audience=cfg.audience,
                issuer=cfg.issuer,
                options={
                    "require": ["exp", "iss", "aud", "sub"],
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                },
            )
        except jwt.MissingRequiredClaimError as exc:
            raise InvalidToken(f"token is missing the '{exc.claim}' claim") from None
        except jwt.PyJWTError as exc:
            msg = next((m for t, m in _ERRORS if isinstance(exc, t)), "token is malformed")
            raise InvalidToken(msg) from None
        at = datetime.now(UTC) if now is None else now  # a naive `now` is taken as UTC
        t, leeway = (at if at.tzinfo else at.replace(tzinfo=UTC)).timestamp(), cfg.leeway_seconds
        for name in ("exp", "nbf", "iat"):
            value = claims.get(name)
            if value is None and name != "exp":
                continue
            if isinstance(value, bool) or not isinstance(value, int | float) or isnan(value):
                raise InvalidToken(f"token has a non-numeric '{name}' claim")
            if name == "exp" and value <= t - leeway:
                raise InvalidToken("token has expired")
            if name != "exp" and value > t + leeway:
                raise InvalidToken("token is not yet valid")
        return claims

    def identity(self, claims: Mapping[str, Any]) -> Identity:
        """Issuer and subject of verified `claims`, and the configured username claim
        when `match_username` is on; InvalidToken if one of them is not a non-empty string."""
        names = ("iss", "sub", *((self.config.user_claim,) if self.config.match_username else ()))
        values = []
        for name in names:
            value = claims.get(name)
            if not isinstance(value, str) or not value.strip():
                raise InvalidToken(f"token is missing the '{name}' claim")
            values.append(value)
        return Identity(values[0], values[1], values[2] if len(values) > 2 else None)
