"""Structured (JSON) logs. Every line carries the request id, the principal id
and the case id when known, and never personal data: no bodies, no names, no
query strings, no tokens. One access line per request.

A calendar feed's token travels in its URL (`/api/v1/feeds/crf_....ics`), so every
line is passed through `redact`, whatever the method or status (a 405, the 307 of a
trailing slash, a 413 are answered before the feed route runs)."""

from __future__ import annotations

import json
import logging
import re
import time
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from workflow.reads.feeds import FEED_PREFIX

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
principal_id_var: ContextVar[str | None] = ContextVar("principal_id", default=None)
case_id_var: ContextVar[str | None] = ContextVar("case_id", default=None)
access_log = logging.getLogger("casereview.access")
# A feed token is the prefix and URL-safe base64 (secrets.token_urlsafe).
_FEED_TOKEN = re.compile(re.escape(FEED_PREFIX) + r"[A-Za-z0-9_\-]*")
REDACTED = "(token)"


def redact(text: str) -> str:
    """`text` with every feed token replaced by `(token)`: the one redaction of paths
    and log lines (`/api/v1/feeds/crf_abc.ics` -> `/api/v1/feeds/(token).ics`)."""
    return _FEED_TOKEN.sub(REDACTED, text)


def current_ids() -> dict[str, str | None]:
    return {
        "request_id": request_id_var.get(),
        "principal_id": principal_id_var.get(),
        "case_id": case_id_var.get(),
    }


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            **current_ids(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        # Redacted as a whole: a path can also reach a line through its message
        # (an unhandled error names the request) or an exception's text.
        return redact(json.dumps({k: v for k, v in line.items() if v is not None}))


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    logging.getLogger("uvicorn.access").disabled = True  # replaced by casereview.access


class AccessLogMiddleware:
    """Sets the request-scoped log context and writes one access line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        tokens = [principal_id_var.set(None), case_id_var.set(_case_id(scope["path"]))]

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                for key, value in message.get("headers", []):
                    if key == b"x-request-id":
                        request_id_var.set(value.decode("latin-1"))
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            access_log.info(
                "request",
                extra={
                    "fields": {
                        "method": scope["method"],
                        "path": redact(scope["path"]),
                        "status": status,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                        **current_ids(),
                    }
                },
            )
            for var, token in zip((principal_id_var, case_id_var), tokens, strict=True):
                var.reset(token)


def _case_id(path: str) -> str | None:
    parts = path.split("/")
    if len(parts) > 4 and parts[1:4] == ["api", "v1", "cases"]:
        return parts[4][:36]
    return None
