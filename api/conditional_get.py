"""A fast path for the one request dashboards repeat most: a conditional
`GET /api/v1/cases/{id}` whose `If-None-Match` is still current.

Pure ASGI, inside the request-id, security-header and access-log middleware. It
answers `304 Not Modified` itself only when everything is already known: an API
token whose Principal is in the token cache (workflow/access/token_cache.py, same
expiry check as the route), a case the caller may see (`etags.case_stamp`, one Core
query through `Services.peek`), and a matching tag. Anything else (no or an
uncached token, a JWT, a query string, a case not visible or missing, a tag that
does not match, a database error) goes to the route unchanged, which answers
exactly as before. The answer is the route's: same tag, same Cache-Control, no
body, no audit record (no personal data is sent). Skipping FastAPI's routing and
dependency solving is what brings a 304 near the cost of a bare route
(docs/performance.md, "Polling and commands").
"""

from __future__ import annotations

import inspect
import re
import uuid
from datetime import datetime
from typing import Any

from starlette.types import ASGIApp, Receive, Scope, Send

from api.deps import Services, get_now
from api.observability import principal_id_var
from workflow.access.oidc import looks_like_jwt
from workflow.services import etags
from workflow.services.base import LOCAL_ZONE

CASE_PATH = re.compile(r"/api/v1/cases/([0-9a-fA-F-]{36})")


class ConditionalCaseGet:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not await self._answered(scope, send):
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
        if not auth or not if_none_match or services is None:
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
            stamp = await services.peek(lambda c: etags.case_stamp(c, principal, case_id))
        except Exception:  # not found, not visible, unavailable: the route answers
            return False
        tag = etags.case_tag(stamp.version, now.astimezone(LOCAL_ZONE).date(), stamp.personal)
        if not etags.matches(if_none_match, tag):
            return False
        principal_id_var.set(str(principal.user_id))
        cache_control = b"no-store" if stamp.personal else b"private, no-cache"
        await send(
            {
                "type": "http.response.start",
                "status": 304,
                "headers": [(b"etag", tag.encode()), (b"cache-control", cache_control)],
            }
        )
        await send({"type": "http.response.body", "body": b""})
        return True


async def _now(app: Any) -> datetime:
    """The request clock as the routes get it (tests override `get_now`)."""
    value = app.dependency_overrides.get(get_now, get_now)()
    if inspect.isawaitable(value):
        value = await value
    assert isinstance(value, datetime)
    return value
