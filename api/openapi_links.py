"""OpenAPI links that describe a case's lifecycle (OpenAPI 3.1, 4.8.20).

Every operation that answers with a case (`CaseOut`: opening an incident or a
thematic review, and every command) links to reading that case (`GET /cases/{id}`,
its timeline, next actions, action plan and documents) and to commanding it: the
case id comes from the body (`$response.body#/id`) and `If-Match` from the answer's
`ETag`, which is the case's new version. A client (or the stateful fuzzer in
tests/fuzz/) can so walk a case from its creation through every command."""

from __future__ import annotations

import re
from typing import Any

CASE_REF = "#/components/schemas/CaseOut"
CASE_PATH = re.compile(r"^/api/v1/cases/\{case_id\}(/[a-z-]+)?$")
CASE_ID = "$response.body#/id"
ETAG = "$response.header.ETag"


def add_links(schema: dict[str, Any]) -> None:
    """Add the links to `schema` in place."""
    targets = _case_targets(schema)
    for path_item in schema.get("paths", {}).values():
        for operation in path_item.values():
            if not isinstance(operation, dict):
                continue
            for code, response in operation.get("responses", {}).items():
                if code in ("200", "201") and _returns_case(response):
                    response["links"] = {
                        name: link
                        for name, link in targets.items()
                        if link["operationId"] != operation.get("operationId")
                        or "header.If-Match" in link["parameters"]
                    }
                    response.setdefault("headers", {})["ETag"] = {
                        "description": "The case's version: send it as If-Match to command it.",
                        "schema": {"type": "string"},
                    }


def _case_targets(schema: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A link per operation on one case that needs nothing but its id (and If-Match)."""
    links: dict[str, dict[str, Any]] = {}
    for path, path_item in schema.get("paths", {}).items():
        if not CASE_PATH.match(path):
            continue
        for method, operation in path_item.items():
            if method not in ("get", "post", "put") or "operationId" not in operation:
                continue
            body = operation.get("requestBody", {}).get("content", {"application/json": {}})
            if "application/json" not in body:
                continue  # uploads need a file no response holds
            parameters: dict[str, str] = {"case_id": CASE_ID}
            headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
            if any(h.lower() == "if-match" for h in headers):
                parameters["header.If-Match"] = ETAG
            name = _link_name(method, path)
            links[name] = {
                "operationId": operation["operationId"],
                "parameters": parameters,
                "description": f"{method.upper()} {path} for the case just answered.",
            }
    return links


def _link_name(method: str, path: str) -> str:
    tail = path.removeprefix("/api/v1/cases/{case_id}").strip("/") or "case"
    words = [w.capitalize() for w in re.split(r"[-/]", tail) if w]
    verb = {"get": "Read", "post": "Command", "put": "Set"}[method]
    return verb + "".join(words)


def _returns_case(response: dict[str, Any]) -> bool:
    content = response.get("content", {}).get("application/json", {})
    return bool(content.get("schema", {}).get("$ref") == CASE_REF)
