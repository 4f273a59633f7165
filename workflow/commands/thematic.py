"""A thematic review: one local review of several incidents (Working Together 2023
ch.5 allows one review of several cases); opened by workflow/cases/thematic.py."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from pydantic import Field

from workflow.commands.base import Command
from workflow.core.inputs import CaseDate


class OpenThematicReview(Command):
    """Open a thematic review of several cases; it starts at reviewer commissioning."""

    trigger: ClassVar[str] = "open_thematic_review"
    section: ClassVar[str] = "thematic"
    path: ClassVar[str] = ""  # POST /api/v1/thematic-reviews: it opens a case
    heading: ClassVar[str] = "Open a thematic review"
    doing: ClassVar[str] = "opening a thematic review"
    past_dates: ClassVar[tuple[str, ...]] = ("decision_date",)
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"reasons"})

    title: str = Field(min_length=1, max_length=200, examples=["Non-mobile babies with bruising"])
    partnership: str | None = Field(default=None, max_length=64)
    rulebook: str | None = Field(default=None, max_length=64)
    decision_date: CaseDate = Field(description="When the partners decided on the thematic review.")
    reasons: str = Field(min_length=1, max_length=10_000)
    source_case_ids: list[uuid.UUID] = Field(min_length=2, max_length=30)

    def facts(self) -> dict[str, Any]:
        return {
            "kind": "thematic",
            "decision": "local_review",
            "decision_date": self.decision_date,
            "notifiable": False,
            "meets_review_criteria": False,
        }
