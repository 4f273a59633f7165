"""Response model of a deadline as shown on a case."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from workflow.core.deadlines import DeadlineStatus


class DeadlineOut(BaseModel):
    name: str
    title: str
    source: str = Field(description="The statute or guidance the rule comes from.")
    kind: Literal["due_by", "earliest", "expectation"] = Field(
        description="due_by: a statutory or guidance number; earliest: not before the date; "
        "expectation: a local, configurable date where the guidance gives none, shown as "
        "'expected by' and never overdue."
    )
    rule: str = Field(examples=["5 working_days after aware_date"])
    from_fact: str
    from_date: date | None
    met_by_fact: str
    met_date: date | None
    state: Literal["not_started", "pending", "overdue", "met", "paused", "not_applicable"]
    due_date: date | None
    on_time: bool | None
    working_days_late: int | None = Field(description="Met late or overdue: by how many.")
    working_days_remaining: int | None = Field(description="Pending: due in N (0 = today).")
    rag: Literal["red", "amber", "green"] | None
    paused_days: int
    explanation: str = Field(description="How the date was counted, checkable by hand.")

    @classmethod
    def of(cls, s: DeadlineStatus) -> DeadlineOut:
        return cls(
            name=s.name,
            title=s.title,
            source=s.source,
            kind=s.kind,
            rule=f"{s.amount} {s.unit.value} {s.direction} {s.from_fact}",
            from_fact=s.from_fact,
            from_date=s.from_date,
            met_by_fact=s.met_by_fact,
            met_date=s.met_date,
            state=s.state.value,
            due_date=s.due_date,
            on_time=s.on_time,
            working_days_late=s.working_days_late,
            working_days_remaining=s.working_days_remaining,
            rag=s.rag,
            paused_days=s.paused_days,
            explanation=s.explanation,
        )
