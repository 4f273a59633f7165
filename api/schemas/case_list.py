"""The query parameters of `GET /cases` (unknown parameters are refused)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas.params import IsoDate
from workflow.reads.queries import CaseListRequest

DeadlineStateName = Literal[
    "pending", "paused", "met", "not_started", "not_applicable", "window", "expected"
]


class CaseListParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    state: list[str] = Field(default_factory=list, description="Filter by state (repeatable).")
    stage: list[str] = Field(default_factory=list, description="Filter by stage (repeatable).")
    rulebook: str | None = Field(default=None, max_length=64)
    partnership: str | None = Field(
        default=None, max_length=64, description="A partnership code (national: any)."
    )
    theme: str | None = Field(default=None, max_length=64, description="A learning theme.")
    aware_from: IsoDate | None = Field(default=None, description="aware_date on or after.")
    aware_to: IsoDate | None = Field(default=None, description="aware_date on or before.")
    overdue: bool = Field(default=False, description="Only cases with an overdue deadline.")
    due_within: int | None = Field(
        default=None,
        ge=0,
        le=260,
        description="Only cases with a deadline due within N working days (England and Wales).",
    )
    deadline: str | None = Field(
        default=None,
        max_length=64,
        description="Restrict the deadline filters to this "
        "deadline name; alone: cases where it is pending.",
    )
    deadline_state: DeadlineStateName | None = Field(
        default=None, description="Cases with a deadline (or `deadline`) in this stored state."
    )
    reference: str | None = Field(
        default=None,
        max_length=64,
        description="Only cases whose local reference (or a thematic review's title) "
        "contains this, any case.",
    )
    q: str | None = Field(
        default=None,
        max_length=200,
        description="Only cases whose narrative (rapid review summary and learning, the "
        "decision's learning and reasons, recommendations) contains this, any case; "
        "searched only among the cases whose narrative your roles may read.",
    )
    sort: Literal["newest", "oldest"] = Field(default="newest", description="By creation.")
    fields: str | None = Field(
        default=None,
        max_length=500,
        description="Comma-separated item fields to return "
        "(sparse response), e.g. `id,state,next_due_date`; `id` is always included.",
    )
    limit: int = Field(default=50, ge=1, le=200)
    cursor: str | None = Field(default=None, max_length=200)

    def request(self) -> CaseListRequest:
        return CaseListRequest(
            states=self.state,
            stages=self.stage,
            rulebook=self.rulebook,
            partnership=self.partnership,
            theme=self.theme,
            aware_from=self.aware_from,
            aware_to=self.aware_to,
            overdue=self.overdue,
            due_within=self.due_within,
            deadline=self.deadline,
            deadline_state=self.deadline_state,
            sort=self.sort,
            reference=self.reference,
            text=self.q,
        )

    def tag_parts(self) -> list[tuple[str, str]]:
        """Every parameter, normalised, for the list's ETag."""
        data = self.model_dump(mode="json")
        parts = [(k, str(v)) for k, v in sorted(data.items()) if not isinstance(v, list)]
        return parts + [(k, item) for k in ("stage", "state") for item in sorted(set(data[k]))]
