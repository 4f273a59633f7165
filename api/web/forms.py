"""What proves a web form (CSRF), and the flags of the dashboard's cookies.

Every state-changing form of the dashboard carries a CSRF token in `csrf_token`,
checked on the server before anything changes:

- a signed-in form (sign-out, and every form to come) carries its session's secret
  (synchroniser token, kept in the `web_session` row: workflow/access/sessions.py);
- the sign-in form, which has no session yet, carries the value of a random
  pre-session cookie (`casereview_signin`, HttpOnly, SameSite=Strict, path /session):
  a cross-site page can neither read that cookie nor set the field to match it.

Besides, a request the browser says came from elsewhere (Sec-Fetch-Site, or an
Origin naming another host) is refused whatever its token. An Origin that is
`null` or missing (old browsers; and this app's `Referrer-Policy: no-referrer`
makes browsers send `null`) is accepted only because the token proves the form.
"""

from __future__ import annotations

import hmac
import re
import secrets
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import Response

from api.deps import Services

FIELD = "csrf_token"
SIGN_IN_COOKIE = "casereview_signin"
_SIGN_IN_PATH = "/session"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)


def same_origin(request: Request) -> bool:
    """False when the browser says the request came from another site: Sec-Fetch-Site,
    else an Origin naming another host. A null or missing Origin is not proof either
    way: the caller must also check the form's CSRF token."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return True
    return urlsplit(origin).netloc == request.headers.get("host", "")


def secure(request: Request, services: Services) -> bool:
    """Whether cookies get `Secure`: CASEREVIEW_COOKIE_SECURE=always, or the request came
    over HTTPS (the scheme a trusted proxy forwarded: `serve --forwarded-allow-ips`)."""
    return services.cookie_secure or request.url.scheme == "https"


def sign_in_token(request: Request) -> str:
    """The sign-in form's token: the browser's pre-session cookie when it has a
    well-formed one (several open sign-in tabs stay valid), else a new random one."""
    held = request.cookies.get(SIGN_IN_COOKIE, "")
    return held if _TOKEN.match(held) else secrets.token_urlsafe(32)


def keep_sign_in_token(
    response: Response, token: str, request: Request, services: Services
) -> None:
    response.set_cookie(
        SIGN_IN_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=secure(request, services),
        path=_SIGN_IN_PATH,
    )


def forget_sign_in_token(response: Response, request: Request, services: Services) -> None:
    response.delete_cookie(
        SIGN_IN_COOKIE,
        path=_SIGN_IN_PATH,
        httponly=True,
        samesite="strict",
        secure=secure(request, services),
    )


def proves_sign_in(request: Request, submitted: str) -> bool:
    """The sign-in form's token matches the browser's pre-session cookie."""
    held = request.cookies.get(SIGN_IN_COOKIE, "")
    return bool(_TOKEN.match(held)) and hmac.compare_digest(held.encode(), submitted.encode())
