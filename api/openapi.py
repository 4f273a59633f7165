"""The OpenAPI document, post-processed so that it tells the truth about errors and
about how operations connect:

- every 4xx/5xx is `application/problem+json` (FastAPI documents its own 422 as plain
  JSON); 429 and 503 carry `Retry-After`, 401 `WWW-Authenticate`, 412 the current `ETag`;
- each operation documents every error it can give: 500 everywhere; 401 and 429 where a
  credential is required (the rate limits count callers and refused credentials,
  workflow/access/rate_limit.py); 400 (unparseable body), 413 and 422 where there is a body;
  422 where there are parameters; 412 and 428 where `If-Match` is taken;
- `If-Match` is marked required (a missing one is answered 428, RFC 6585) with the
  shape the server accepts;
- links (api/openapi_links.py) from creating and commanding a case to reading and
  commanding it, so clients and the stateful fuzzer can follow a case's lifecycle.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from api import openapi_links
from api.errors import PROBLEM_JSON, Problem

PROBLEM_REF = {"$ref": "#/components/schemas/Problem"}
RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds to wait before retrying.",
        "schema": {"type": "integer", "minimum": 1},
    }
}
HEADERS = {
    "429": RETRY_AFTER,
    "503": RETRY_AFTER,
    "507": RETRY_AFTER,
    "401": {"WWW-Authenticate": {"description": "Bearer realm", "schema": {"type": "string"}}},
    "412": {"ETag": {"description": "The case's current version.", "schema": {"type": "string"}}},
}
DESCRIPTIONS = {
    "400": "The body is not parseable, or a cursor is not one this API issued",
    "401": "Authentication required",
    "412": "Stale If-Match version",
    "413": "Body too large",
    "422": "Validation error (names the field)",
    "428": "If-Match missing or not a case version",
    "429": "Rate limit exceeded (the detail names it); retry after Retry-After seconds",
    "500": "Internal error (logged with the request id)",
}
# What `api.deps.get_expected_version` accepts: "3", 3, or a GET's tag "3.20260115.p".
IF_MATCH_PATTERN = r'^\s*(?:"\d{1,9}(?:\.[0-9A-Za-z.]{1,40})?"|\d{1,9})\s*$'
METHODS = ("get", "put", "post", "delete", "patch")


def install(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        schemas = schema.setdefault("components", {}).setdefault("schemas", {})
        schemas.setdefault(
            "Problem", Problem.model_json_schema(ref_template="#/components/schemas/{model}")
        )
        for field in ("FieldError",):
            schemas.setdefault(field, Problem.model_json_schema()["$defs"][field])
        for path in schema.get("paths", {}).values():
            for method, operation in path.items():
                if method in METHODS:
                    _document_errors(operation, secured_by_default="security" in schema)
        for unused in ("HTTPValidationError", "ValidationError"):
            schemas.pop(unused, None)
        openapi_links.add_links(schema)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]


def _document_errors(operation: dict[str, Any], secured_by_default: bool) -> None:
    """Add the errors `operation` can give, then render every error as problem+json."""
    responses: dict[str, Any] = operation.setdefault("responses", {})
    statuses = {"500"}
    if operation.get("security") or secured_by_default:
        statuses |= {"401", "429"}
    if "requestBody" in operation:
        statuses |= {"400", "413", "422"}
    parameters = operation.get("parameters", [])
    if parameters:
        statuses.add("422")
    for parameter in parameters:
        if parameter["in"] == "header" and parameter["name"].lower() == "if-match":
            parameter["required"] = True
            parameter["schema"] = {
                "type": "string",
                "pattern": IF_MATCH_PATTERN,
                "description": parameter.get("description", ""),
            }
            statuses |= {"412", "428"}
    for status in sorted(statuses):
        responses.setdefault(status, {"description": DESCRIPTIONS.get(status, "Error")})
    for code, response in responses.items():
        if code.isdigit() and int(code) >= 400:
            response["content"] = {PROBLEM_JSON: {"schema": PROBLEM_REF}}
            if code in HEADERS:
                response["headers"] = HEADERS[code]
