"""Closing a case: from action-plan monitoring once every action is complete, or
from the branches that leave the review path (not notifiable, notified without
review, no review, national review)."""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from workflow.commands.base import Command
from workflow.core.inputs import CaseDate


class CloseCase(Command):
    """Close the case: once every action of the plan is complete, or from a branch
    that left the review path (not notifiable, no review, a national review)."""

    trigger: ClassVar[str] = "close_case"
    section: ClassVar[str] = "closure"
    path: ClassVar[str] = "closure"
    heading: ClassVar[str] = "Close the case"
    doing: ClassVar[str] = "closing the case"
    past_dates: ClassVar[tuple[str, ...]] = ("closed_date",)
    not_before: ClassVar[dict[str, str]] = {"closed_date": "aware_date"}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"reason"})

    closed_date: CaseDate
    reason: str = Field(min_length=1, max_length=5_000)

    def facts(self) -> dict[str, Any]:
        return {"closed_date": self.closed_date, "close_reason": self.reason}
