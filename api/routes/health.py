"""Liveness and readiness probes (no authentication, no personal data)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.deps import ServicesDep
from workflow.storage.migrate import current_revision, head_revision

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    responses={503: {"description": "Not ready: database unreachable or schema not at head"}},
)
async def readyz(services: ServicesDep) -> JSONResponse:
    """The database answers and its schema is at the migrations' head."""

    def check(session: Session) -> str | None:
        session.execute(text("SELECT 1"))
        return current_revision(services.database.engine)

    try:
        current = await services.read(check)
    except Exception:  # any failure means not ready; details stay in the logs
        return JSONResponse(
            {"status": "unavailable", "database": "unreachable"}, 503, headers={"Retry-After": "5"}
        )
    head = head_revision()
    ready = current == head
    return JSONResponse(
        {"status": "ok" if ready else "unavailable", "schema": current, "expected_schema": head},
        200 if ready else 503,
    )
