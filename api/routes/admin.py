"""Administration: who am I, and audit-trail verification."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.deps import CurrentPrincipal, ServicesDep
from api.errors import responses
from workflow.audit.service import verify_for

router = APIRouter(prefix="/api/v1", tags=["admin"])


class Membership(BaseModel):
    partnership_id: uuid.UUID
    partnership: str
    role: str
    nation: str = Field(
        description="The partnership's nation: england, wales, scotland, "
        "northern_ireland (picks its rulebook, calendar and words)."
    )


class Me(BaseModel):
    username: str
    memberships: list[Membership]
    system_admin: bool


class ChainStatus(BaseModel):
    chain: str
    records: int
    ok: bool
    first_broken_seq: int | None
    first_broken_id: int | None
    problem: str | None


class AuditVerification(BaseModel):
    ok: bool
    chains: list[ChainStatus]


@router.get("/me", response_model=Me, responses=responses(401))
async def me(principal: CurrentPrincipal) -> Me:
    """The authenticated caller and their roles."""
    return Me(
        username=principal.username,
        system_admin=principal.is_system_admin,
        memberships=[
            Membership(
                partnership_id=g.partnership_id,
                partnership=g.partnership_code,
                role=g.role,
                nation=g.nation,
            )
            for g in principal.grants
        ],
    )


@router.get(
    "/audit/verification", response_model=AuditVerification, responses=responses(401, 403, 503)
)
async def verify_audit(services: ServicesDep, principal: CurrentPrincipal) -> AuditVerification:
    """Recompute the hash chain of each of your partnerships' audit trails and report
    the first broken link (partnership admins; system admins see every chain)."""

    def run(session: Session) -> AuditVerification:
        reports = verify_for(session, principal)
        return AuditVerification(
            ok=all(r.ok for r in reports),
            chains=[
                ChainStatus(
                    chain=r.chain,
                    records=r.records,
                    ok=r.ok,
                    first_broken_seq=r.first_broken_seq,
                    first_broken_id=r.first_broken_id,
                    problem=r.problem,
                )
                for r in reports
            ],
        )

    return await services.call(services.database.read_snapshot, run)
