"""A fast path for the requests dashboards repeat most: `GET /api/v1/cases/{id}`
whose `If-None-Match` is still current (304), or whose summary is already rendered.

Pure ASGI, inside CORS and the request-id, security-header and access-log
middleware. It answers itself only when everything is already known: an API
token whose Principal is in the token cache (workflow/access/token_cache.py, same
expiry check as the route), a case the caller may see (`Services.stamp`: one
prebuilt query; on PostgreSQL on the event loop, workflow/storage/loop_reader.py), and a
matching tag, or for a summary caller the body the route rendered for this version,
day and roles (api/summary_cache.py). Anything else (no or an uncached token, a JWT,
a query string, a case not visible or missing, a personal representation, an
unexpected error) goes to the route unchanged, which answers exactly as before; a
database outage is answered here with the route's 503 problem+json (Retry-After),
so that a request waits for it once, not twice. The answer is the route's: same
tag, same Cache-Control, same body, no audit record (no personal data is sent).
Skipping FastAPI's routing and dependency solving is what brings a 304 near the
cost of a bare route (docs/performance.md, "Polling and commands").
"""

from __future__ import annotations

import inspect
import re
import uuid
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import Services, get_now
from api.errors import domain_error_response
from api.observability import principal_id_var
from workflow.access.oidc import looks_like_jwt
from workflow.context import LOCAL_ZONE
from workflow.reads import etags
from workflow.storage.database import DatabaseUnavailable

CASE_PATH = re.compile(r"/api/v1/cases/([0-9a-fA-F-]{36})")


class ConditionalCaseGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            answered = await self._answered(scope, send)
        except DatabaseUnavailable as exc:  # the route would wait for the same outage again
            response = await domain_error_response(Request(scope), exc)
            await response(scope, receive, send)
            return
        if not answered:
            await self.app(scope, receive, send)

    async def _answered(self, scope: Scope, send: Send) -> bool:
        """True if a 304 was sent; False: the route must answer."""
        if scope["type"] != "http" or scope["method"] != "GET" or scope.get("query_string"):
            return False
        found = CASE_PATH.fullmatch(scope["path"])
        if found is None:
            return False
        auth = if_none_match = None
        for key, value in scope["headers"]:
            if key == b"authorization":
                auth = value.decode("latin-1")
            elif key == b"if-none-match":
                if_none_match = value.decode("latin-1")
        services: Services | None = getattr(scope["app"].state, "services", None)
        if not auth or services is None:
            return False
        scheme, _, raw = auth.partition(" ")
        raw = raw.strip()
        if scheme.lower() != "bearer" or not raw:
            return False
        if services.oidc is not None and looks_like_jwt(raw):
            return False
        now = await _now(scope["app"])
        principal = services.tokens.get(services.tokens.key(raw), now)
        if principal is None:
            return False
        try:
            case_id = uuid.UUID(found.group(1))
            stamp = await services.stamp(principal, case_id)
        except DatabaseUnavailable:
            raise  # 503 problem+json, as the route would answer (api/errors.py)
        except Exception:  # not found, not visible: the route answers
            return False
        today = now.astimezone(LOCAL_ZONE).date()
        tag = etags.case_tag(stamp.version, today, stamp.personal)
        cache_control = b"no-store" if stamp.personal else b"private, no-cache"
        headers = [(b"etag", tag.encode()), (b"cache-control", cache_control)]
        if etags.matches(if_none_match, tag):
            status, body = 304, b""
        elif stamp.personal:  # rendered and audited by the route only
            return False
        else:  # the summary the route rendered for this version, day and roles, if cached
            cached = services.summaries.get((case_id, stamp.version, today, stamp.roles))
            if cached is None:
                return False
            status, body = 200, cached
            headers += [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
        if not services.limits.allows(principal.user_id, now):
            return False  # over the caller's rate limit: the route answers 429
        principal_id_var.set(str(principal.user_id))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True


async def _now(app: Any) -> datetime:
    """The request clock as the routes get it (tests override `get_now`)."""
    value = app.dependency_overrides.get(get_now, get_now)()
    if inspect.isawaitable(value):
        value = await value
    assert isinstance(value, datetime)
    return value
