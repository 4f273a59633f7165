"""The corrections of a case, as a caller may see them (GET /cases/{id}/corrections)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field

from workflow.storage.models import CaseEvent


class FieldCorrection(BaseModel):
    field: str
    old: Any = Field(description="The value as recorded before this correction.")
    new: Any = Field(description="The corrected value (the current fact, unless corrected again).")


class CorrectionOut(BaseModel):
    sequence: int = Field(description="The case version this correction produced.")
    occurred_at: datetime
    actor: str
    record: str = Field(description="The stage record corrected.", examples=["notification"])
    command: str = Field(description="The command that recorded it.")
    corrects: int = Field(description="The timeline entry (version) that recorded it.")
    fields: list[str] = Field(description="The fields corrected.")
    changes: list[FieldCorrection] | None = Field(
        description="Personal data: null for roles that may not see it."
    )
    reason: str | None = Field(description="Personal data: null for roles that may not see it.")

    @classmethod
    def of(cls, event: CaseEvent, personal: bool) -> CorrectionOut:
        p: dict[str, Any] = event.payload
        changes = [FieldCorrection.model_validate(c) for c in p.get("changes", [])]
        return cls(
            sequence=event.sequence,
            occurred_at=event.occurred_at,
            actor=event.actor,
            record=str(p.get("record")),
            command=str(p.get("command")),
            corrects=int(p.get("corrects", 0)),
            fields=[c.field for c in changes],
            changes=changes if personal else None,
            reason=p.get("reason") if personal else None,
        )


class Corrections(BaseModel):
    case_id: uuid.UUID
    items: list[CorrectionOut]
