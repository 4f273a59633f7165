"""Family and practitioner involvement in a review (Working Together 2023 ch.5:
families are invited to contribute and told before publication; practitioners
take part through learning events)."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field

from workflow.commands.base import Command
from workflow.core.inputs import CaseDate

Milestone = Literal[
    "family_informed",
    "family_invited",
    "family_contributed",
    "family_declined",
    "family_told_before_publication",
    "practitioner_event",
]


class RecordInvolvement(Command):
    """Record a family or practitioner involvement milestone (the state does not change)."""

    trigger: ClassVar[str] = "record_involvement"
    section: ClassVar[str] = "involvement"
    path: ClassVar[str] = "involvement"
    heading: ClassVar[str] = "Record a family or practitioner milestone"
    doing: ClassVar[str] = "recording involvement"
    granted_to: ClassVar[tuple[str, ...]] = ("review_group", "reviewer")
    past_dates: ClassVar[tuple[str, ...]] = ("milestone_date",)
    not_before: ClassVar[dict[str, str]] = {"milestone_date": "aware_date"}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"note"})

    milestone: Milestone
    milestone_date: CaseDate
    note: str | None = Field(default=None, max_length=5_000)

    def facts(self) -> dict[str, Any]:
        return {f"{self.milestone}_date": self.milestone_date}

    def record_key(self) -> str:
        return f"involvement.{self.milestone}"
