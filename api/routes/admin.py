"""Administration: who am I, and audit-trail verification."""

from __future__ import annotations

import logging
import uuid

from fastapi import APIRouter
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.deps import CurrentPrincipal, ServicesDep
from api.errors import responses
from workflow.audit.checkpoint import CheckpointFile, CheckpointUnavailable
from workflow.audit.service import verifiable, verify_for
from workflow.audit.verification import Anchor

router = APIRouter(prefix="/api/v1", tags=["admin"])
log = logging.getLogger("api")


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
    checkpoint_seq: int | None = Field(
        description="The seq of the signed checkpoint the chain was compared with."
    )


class AuditVerification(BaseModel):
    ok: bool
    anchored: bool = Field(
        description="Compared with signed checkpoints kept outside the database "
        "(CASEREVIEW_AUDIT_CHECKPOINT_FILE); false: truncation, a removed chain and "
        "rewriting with recomputed hashes cannot be detected."
    )
    first_problem: str | None = Field(description="The first problem found, chain and seq.")
    note: str | None
    problems: list[str] = Field(description="Problems of the checkpoint file as a whole.")
    chains: list[ChainStatus]


def _checkpoints(anchor: Anchor | None) -> CheckpointFile | CheckpointUnavailable | None:
    """Read before the snapshot (workflow/audit/verification.py). The reason it cannot
    be read names server paths: logged, not sent."""
    try:
        return anchor.load() if anchor else None
    except CheckpointUnavailable as exc:
        log.warning("audit checkpoints unavailable: %s", exc)
        return CheckpointUnavailable(
            "the checkpoint file or its key cannot be read on the server "
            "(`casereview audit verify` there says why)"
        )


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
    """Recompute the hash chain of each of your partnerships' audit trails, compare it
    with its signed checkpoint, and report the first problem (partnership admins;
    system admins see every chain)."""
    verifiable(principal)  # refuse before reading the checkpoint file
    checkpoints = await services.call(_checkpoints, services.audit_anchor)

    def run(session: Session) -> AuditVerification:
        result = verify_for(session, principal, checkpoints)
        return AuditVerification(
            ok=result.ok,
            anchored=result.anchored,
            first_problem=result.first_problem(),
            note=result.note,
            problems=result.problems,
            chains=[
                ChainStatus(
                    chain=r.chain,
                    records=r.records,
                    ok=r.ok,
                    first_broken_seq=r.first_broken_seq,
                    first_broken_id=r.first_broken_id,
                    problem=r.problem,
                    checkpoint_seq=r.checkpoint_seq,
                )
                for r in result.chains
            ],
        )

    return await services.call(services.database.read_snapshot, run)
