"""The one table from domain errors to HTTP, and RFC 9457 problem+json rendering.

No stack trace or exception text from an unexpected error ever reaches a client:
it is logged with the request id, and the client gets a generic 500 problem.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from api.observability import redact
from workflow.core.errors import (
    CaseNotFound,
    CommandNotAllowed,
    Conflict,
    DocumentNotFound,
    DocumentTooLarge,
    DomainError,
    Forbidden,
    GuardRefused,
    HistoryConflict,
    IdempotencyKeyReused,
    InvalidCursor,
    InvalidFacts,
    NotAuthenticated,
    PreconditionRequired,
    RateLimited,
    SignOnUnavailable,
    StorageFull,
    StorageUnavailable,
    UnknownRulebook,
    UnsupportedDocument,
    VersionMismatch,
)
from workflow.notifications.deliveries import DeliveryNotFound
from workflow.notifications.subscriptions import SubscriptionNotFound
from workflow.storage.database import DatabaseUnavailable

log = logging.getLogger("api")
PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "urn:casereview:problem:"

# (status, type slug, title) per domain error; the most specific class wins.
DOMAIN_ERRORS: dict[type[DomainError], tuple[int, str, str]] = {
    NotAuthenticated: (401, "unauthenticated", "Authentication required"),
    Forbidden: (403, "forbidden", "Your roles do not allow this"),
    Conflict: (409, "conflict", "Conflicts with existing data"),
    IdempotencyKeyReused: (422, "idempotency-key-reused", "Idempotency-Key reused"),
    CaseNotFound: (404, "not-found", "Not found"),
    UnknownRulebook: (404, "not-found", "Not found"),
    GuardRefused: (409, "rule-not-met", "A rule of the case's rulebook is not met"),
    CommandNotAllowed: (409, "command-not-allowed", "Not allowed in the case's current state"),
    VersionMismatch: (412, "version-mismatch", "The case has changed since you read it"),
    PreconditionRequired: (428, "if-match-required", "If-Match header required"),
    RateLimited: (429, "rate-limited", "Too many requests"),
    InvalidFacts: (422, "validation-error", "The request is not valid"),
    HistoryConflict: (409, "history-conflict", "The correction contradicts the case's history"),
    InvalidCursor: (400, "bad-cursor", "Bad pagination cursor"),
    DatabaseUnavailable: (503, "unavailable", "Service temporarily unavailable"),
    SignOnUnavailable: (503, "unavailable", "Service temporarily unavailable"),
    DocumentNotFound: (404, "not-found", "Not found"),
    SubscriptionNotFound: (404, "not-found", "Not found"),
    DeliveryNotFound: (404, "not-found", "Not found"),
    # Content is checked by its bytes (RFC 9110 15.5.16 allows 415 "as a result of
    # inspecting the data directly"); both name the field in `errors`.
    UnsupportedDocument: (415, "unsupported-document", "The file is not an allowed type"),
    DocumentTooLarge: (413, "document-too-large", "The file is too large"),
    # The document store's filesystem: full (RFC 4918 11.5: "considered to be
    # temporary", so with Retry-After) or failing otherwise; the upload was refused.
    StorageFull: (507, "insufficient-storage", "The document store is full"),
    StorageUnavailable: (503, "unavailable", "Service temporarily unavailable"),
}
# Retry-After (seconds) for the unavailable kinds: freeing space takes someone longer.
RETRY_AFTER: dict[type[DomainError], str] = {
    StorageFull: "60",
    StorageUnavailable: "30",
    DatabaseUnavailable: "2",
    SignOnUnavailable: "2",
}


class FieldError(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details, with this API's extensions."""

    type: str = Field(examples=[f"{TYPE_BASE}command-not-allowed"])
    title: str
    status: int
    detail: str
    instance: str
    errors: list[FieldError] | None = None
    current_state: str | None = None
    allowed_actions: list[str] | None = None
    current_version: int | None = None


def problem_response(
    request: Request,
    status: int,
    slug: str,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body = {
        "type": TYPE_BASE + slug,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": redact(request.url.path),  # a feed URL's token is a credential
    }
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(
        body,
        status_code=status,
        media_type=PROBLEM_JSON,
        headers={"Cache-Control": "no-store", **(headers or {})},
    )


def _domain_entry(exc: DomainError) -> tuple[int, str, str]:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_ERRORS:
            return DOMAIN_ERRORS[cls]
    return (400, "bad-request", "Bad request")


async def _on_domain_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DomainError)
    status, slug, title = _domain_entry(exc)
    extra: dict[str, Any] = {}
    headers: dict[str, str] = {}
    if isinstance(exc, CommandNotAllowed):
        extra = {"current_state": exc.current_state, "allowed_actions": exc.allowed_actions}
    if isinstance(exc, VersionMismatch):
        extra = {"current_version": exc.current_version}
        headers["ETag"] = f'"{exc.current_version}"'
    if isinstance(exc, InvalidFacts):
        extra = {"errors": [{"field": exc.field, "message": exc.detail}]}
    retry_after = next((RETRY_AFTER[c] for c in type(exc).__mro__ if c in RETRY_AFTER), None)
    if retry_after is not None:
        headers["Retry-After"] = retry_after
    if isinstance(exc, RateLimited):
        headers["Retry-After"] = str(exc.retry_after_seconds)
    if isinstance(exc, NotAuthenticated):
        headers["WWW-Authenticate"] = 'Bearer realm="casereview"'
    if isinstance(exc, IdempotencyKeyReused):
        extra = {"errors": [{"field": "header.idempotency-key", "message": exc.detail}]}
    return problem_response(request, status, slug, title, exc.detail, headers, **extra)


# The problem+json of a domain error, for ASGI code answering before routing
# (api/conditional_get.py) exactly as the installed handler would.
domain_error_response = _on_domain_error


def _field_name(loc: Sequence[Any]) -> str:
    parts = [str(p) for p in loc]
    if parts and parts[0] in ("body", "query", "path", "header"):
        parts = parts[1:] if parts[0] == "body" else parts
    return ".".join(parts) or "body"


async def _on_validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = []
    for e in exc.errors():
        msg = str(e.get("msg", "invalid"))
        if e.get("type") == "extra_forbidden":
            msg = "unknown field"
        if e.get("type") == "json_invalid":
            errors.append({"field": "body", "message": f"not valid JSON: {msg}"})
            continue
        errors.append({"field": _field_name(e.get("loc", ())), "message": msg})
    detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    return problem_response(
        request, 422, "validation-error", "The request is not valid", detail, errors=errors
    )


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    titles = {404: "Not found", 405: "Method not allowed", 413: "Request body too large"}
    detail = exc.detail if isinstance(exc.detail, str) else titles.get(exc.status_code, "Error")
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = ", ".join(allowed_methods(request))
    return problem_response(
        request, exc.status_code, slug, titles.get(exc.status_code, "Error"), detail, headers
    )


def allowed_methods(request: Request) -> list[str]:
    """Every method the API documents at this path (RFC 9110 15.5.6). Starlette's own
    405 names only the first route that matched the path, though several may share it."""
    path = request.url.path
    methods: set[str] = set()
    for template, item in request.app.openapi().get("paths", {}).items():
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)), path):
            methods |= {m.upper() for m in item if m in ("get", "put", "post", "delete", "patch")}
    return sorted(methods)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # The exception's message can quote the data that caused it (a database error
    # echoes values): log its type and where it happened, never its text.
    frames = "".join(traceback.format_tb(exc.__traceback__, limit=-8))
    log.error(
        "unhandled %s on %s %s\n%s",
        type(exc).__name__,
        request.method,
        redact(request.url.path),
        frames,
    )
    return problem_response(
        request,
        500,
        "internal-error",
        "Internal server error",
        "An unexpected error occurred; it has been logged.",
    )


def install(app: FastAPI) -> None:
    app.add_exception_handler(DomainError, _on_domain_error)
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses` entries documenting problem+json for the given statuses."""
    descriptions = {
        400: "Bad request",
        404: "Not found",
        409: "Not allowed in the current state",
        412: "Stale If-Match version",
        413: "Body too large",
        415: "Content not an allowed type",
        422: "Validation error (names the field)",
        428: "If-Match missing",
        429: "Rate limit exceeded (the detail names it); retry after Retry-After seconds",
        500: "Internal error",
        503: "Database unavailable; retry",
        507: "The document store is full; retry after Retry-After seconds",
    }
    return {
        s: {
            "model": Problem,
            "description": descriptions.get(s, "Error"),
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for s in statuses
    }
