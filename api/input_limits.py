"""Limits on what a request may carry before any route sees it.

- JSON nesting: a body nested deeper than MAX_JSON_DEPTH arrays/objects is a 422
  naming `body`, found by a scan of the bytes before the body is parsed (no parser
  recursion, and no structure a request model could use is that deep: an incident
  is 3 levels).
- Query parameters: every value obeys the character policy of workflow/core/inputs.py
  (single-line text), answered as a 422 naming `query.<name>`.

Both answer through api/errors.py's table, like any other validation error.
"""

from __future__ import annotations

import re
from email.message import Message as MimeMessage

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors
from workflow.core.inputs import describe_refusal, refused_character

MAX_JSON_DEPTH = 32
# A JSON string, escapes included, or an unterminated one up to the end: strings are
# dropped before brackets are counted. Every byte matches one branch and the loop is
# possessive, so each string is scanned once (linear, whatever the input).
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.?)*+(?:"|\Z)', re.DOTALL)
_NOT_BRACKETS = bytes(b for b in range(256) if b not in b"[]{}")
_OPENING = frozenset(b"[{")


def json_depth_exceeds(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when `body`, read as JSON, opens more than `limit` nested arrays/objects.

    Iterative and linear in the body's size; stops at the first level too deep.
    Malformed JSON is judged by its brackets alone (the parser refuses it anyway)."""
    brackets = _JSON_STRING.sub(b"", body).translate(None, _NOT_BRACKETS)
    depth = 0
    for byte in brackets:
        if byte in _OPENING:
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _is_json(content_type: str | None) -> bool:
    # What FastAPI parses as JSON: no content type, application/json, application/*+json.
    if not content_type:
        return True
    mime = MimeMessage()
    mime["content-type"] = content_type
    subtype = mime.get_content_subtype()
    return mime.get_content_maintype() == "application" and (
        subtype == "json" or subtype.endswith("+json")
    )


class JsonDepthLimitMiddleware:
    """Reads a JSON request body whole (its size is bounded by BodySizeLimitMiddleware,
    which must wrap this one), refuses it when nested too deep, else replays it."""

    def __init__(self, app: ASGIApp, max_depth: int = MAX_JSON_DEPTH) -> None:
        self.app = app
        self.max_depth = max_depth

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        headers = request.headers
        # Without Content-Length or Transfer-Encoding an HTTP/1.1 request has no body.
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        if not has_body or not _is_json(headers.get("content-type")):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        if json_depth_exceeds(body, self.max_depth):
            detail = f"JSON nested deeper than {self.max_depth} levels"
            response = errors.problem_response(
                request,
                422,
                "validation-error",
                "The request is not valid",
                f"body: {detail}",
                errors=[{"field": "body", "message": detail}],
            )
            await response(scope, receive, send)
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()  # e.g. http.disconnect
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)


async def query_character_policy(request: Request) -> None:
    """An application-wide dependency: a query value the character policy refuses
    is a 422 naming it (`query.q`), whichever route it was sent to."""
    for name, value in request.query_params.multi_items():
        ch = refused_character(value)
        if ch is not None:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("query", name),
                        "msg": describe_refusal(ch),
                        "input": None,
                    }
                ]
            )
