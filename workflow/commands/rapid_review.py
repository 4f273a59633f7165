"""Rapid review, the partners' decision and the Panel's response.

Working Together 2023 ch.5: the rapid review is completed and sent to the Panel
within 15 working days; it decides whether a local child safeguarding practice
review is appropriate, or whether to recommend a national review. A decision not
to review still records the learning and its rationale.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from workflow.commands.base import Command
from workflow.core.inputs import CaseDate

Decision = Literal["local_review", "no_review", "national_review_recommended"]
ParallelProcess = Literal[
    "police_investigation",
    "criminal_proceedings",
    "coroner_inquest",
    "child_death_review",
    "domestic_homicide_review",
    "other",
]


class CompleteRapidReview(Command):
    """The rapid review is complete and has been sent to the Panel."""

    trigger: ClassVar[str] = "complete_rapid_review"
    section: ClassVar[str] = "rapid_review"
    path: ClassVar[str] = "rapid-review"
    heading: ClassVar[str] = "Complete the rapid review"
    doing: ClassVar[str] = "completing the rapid review"
    past_dates: ClassVar[tuple[str, ...]] = ("meeting_date", "sent_to_panel_date")
    not_before: ClassVar[dict[str, str]] = {
        "meeting_date": "aware_date",
        "sent_to_panel_date": "notification_date",
    }
    multiline_fields: ClassVar[frozenset[str]] = frozenset(
        {"summary", "immediate_actions", "learning", "family_views", "rationale"}
    )

    meeting_date: CaseDate
    sent_to_panel_date: CaseDate
    agencies_present: list[str] = Field(min_length=1, max_length=30)
    summary: str = Field(min_length=1, max_length=20_000)
    immediate_actions: str = Field(min_length=1, max_length=10_000)
    learning: str = Field(min_length=1, max_length=20_000)
    parallel_processes: list[ParallelProcess] = Field(default_factory=list, max_length=6)
    family_views: str | None = Field(default=None, max_length=10_000)
    recommended_decision: Decision
    rationale: str = Field(min_length=1, max_length=10_000)

    @model_validator(mode="after")
    def _sent_after_meeting(self) -> CompleteRapidReview:
        if self.sent_to_panel_date < self.meeting_date:
            raise ValueError("sent_to_panel_date is before meeting_date")
        return self

    def facts(self) -> dict[str, Any]:
        return {
            "rapid_review_meeting_date": self.meeting_date,
            "rapid_review_sent_date": self.sent_to_panel_date,
        }


class RecordDecision(Command):
    """The safeguarding partners' decision on a review, with reasons."""

    trigger: ClassVar[str] = "record_decision"
    section: ClassVar[str] = "decision"
    path: ClassVar[str] = "decision"
    heading: ClassVar[str] = "Record the partners' decision"
    doing: ClassVar[str] = "recording the decision"
    past_dates: ClassVar[tuple[str, ...]] = ("decision_date", "sent_to_panel_date")
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"reasons", "learning"})
    # aware_date too: under the SCR regime there is no rapid review meeting to follow.
    not_before: ClassVar[dict[str, str | tuple[str, ...]]] = {
        "decision_date": ("rapid_review_meeting_date", "notification_date", "aware_date"),
        "sent_to_panel_date": "decision_date",
    }

    decision: Decision
    decision_date: CaseDate
    reasons: str = Field(min_length=1, max_length=10_000)
    learning: str | None = Field(
        default=None,
        max_length=20_000,
        description="Required when no further review: the learning and how it is taken forward.",
    )
    signed_off_by: list[str] = Field(
        min_length=1, max_length=10, description="The partners who signed the decision off."
    )
    sent_to_panel_date: CaseDate | None = Field(
        default=None,
        description="When the decision was sent to the (national) panel: under the Serious Case "
        "Review regime a decision not to hold an SCR went to the panel within 14 days.",
    )

    @model_validator(mode="after")
    def _learning_when_no_review(self) -> RecordDecision:
        if self.decision == "no_review" and not self.learning:
            raise ValueError("learning is required when the decision is no_review")
        return self

    def facts(self) -> dict[str, Any]:
        out: dict[str, Any] = {"decision": self.decision, "decision_date": self.decision_date}
        if self.sent_to_panel_date is not None:
            out["decision_sent_to_panel_date"] = self.sent_to_panel_date
        return out


class RecordPanelResponse(Command):
    """The Panel's reply to the rapid review (not statutory; about 10 days locally)."""

    trigger: ClassVar[str] = "record_panel_response"
    section: ClassVar[str] = "panel_response"
    path: ClassVar[str] = "panel-response"
    heading: ClassVar[str] = "Record the Panel's response"
    doing: ClassVar[str] = "recording the national panel's response"
    past_dates: ClassVar[tuple[str, ...]] = ("response_date",)
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"comments"})
    # The Panel (under the SCR regime, the national panel) responds to the decision.
    not_before: ClassVar[dict[str, str | tuple[str, ...]]] = {
        "response_date": ("rapid_review_sent_date", "decision_date")
    }

    response_date: CaseDate
    agrees_with_decision: bool
    national_review: bool = Field(
        default=False, description="The Panel will carry out a national review of this case."
    )
    comments: str | None = Field(default=None, max_length=10_000)

    def facts(self) -> dict[str, Any]:
        return {
            "panel_response_date": self.response_date,
            "panel_agrees": self.agrees_with_decision,
            "panel_takes_national_review": self.national_review,
        }
