"""Branches that leave the review path after a notification was sent.

- Criteria not met: the Child Safeguarding Practice Review Panel's guidance requires a
  rapid review for a notified incident "unless it is subsequently determined that the
  case does not meet the criteria". The partners record that conclusion with their
  reasons and the date the Panel was told; the case leaves the review path (state
  `criteria_not_met`, then closed). Only the CSPR rulebooks (2018 onwards) have it:
  under the Serious Case Review regime the LSCB's decision not to hold an SCR is that
  conclusion.
- Notification withdrawn: a notification sent in error or duplicated is withdrawn with
  its reason; the case stays readable, in the final state `notification_withdrawn`.

Neither sets a date fact that a deadline counts from: the reasons and dates are kept in
the case's stage record (the command's body), and the deadlines still running stop
applying because the case leaves the states they apply in.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, model_validator

from workflow.commands.base import Command
from workflow.core.inputs import CaseDate

WithdrawalReason = Literal["sent_in_error", "duplicate"]


class ConcludeCriteriaNotMet(Command):
    """The rapid review concluded that the notified case does not meet the criteria."""

    trigger: ClassVar[str] = "conclude_criteria_not_met"
    section: ClassVar[str] = "criteria_not_met"
    path: ClassVar[str] = "criteria-not-met"
    heading: ClassVar[str] = "Record that the case does not meet the criteria"
    doing: ClassVar[str] = "recording that the case does not meet the criteria"
    past_dates: ClassVar[tuple[str, ...]] = ("concluded_date", "panel_told_date")
    not_before: ClassVar[dict[str, str | tuple[str, ...]]] = {
        "concluded_date": ("notification_date", "aware_date"),
        "panel_told_date": ("notification_date", "aware_date"),
    }
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"reasons"})

    concluded_date: CaseDate
    reasons: str = Field(
        min_length=1,
        max_length=10_000,
        description="Why the case does not meet the criteria (which criterion is not met).",
    )
    panel_told_date: CaseDate = Field(description="When the Panel was told of the conclusion.")

    @model_validator(mode="after")
    def _told_after_concluding(self) -> ConcludeCriteriaNotMet:
        if self.panel_told_date < self.concluded_date:
            raise ValueError("panel_told_date is before concluded_date")
        return self

    def facts(self) -> dict[str, Any]:
        return {}


class WithdrawNotification(Command):
    """Withdraw a notification that was sent in error or duplicated; the case stays
    readable and leaves the review path."""

    trigger: ClassVar[str] = "withdraw_notification"
    section: ClassVar[str] = "notification_withdrawal"
    path: ClassVar[str] = "notification-withdrawal"
    heading: ClassVar[str] = "Withdraw the notification"
    doing: ClassVar[str] = "withdrawing the notification"
    granted_to: ClassVar[tuple[str, ...]] = ("notifier", "review_group")
    past_dates: ClassVar[tuple[str, ...]] = ("withdrawn_on",)
    not_before: ClassVar[dict[str, str | tuple[str, ...]]] = {
        "withdrawn_on": ("notification_date", "aware_date")
    }
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"explanation"})

    withdrawn_on: CaseDate
    reason: WithdrawalReason
    explanation: str = Field(min_length=1, max_length=5_000)
    duplicate_of: str | None = Field(
        default=None,
        max_length=64,
        description="The reference of the notification this one duplicates (reason duplicate).",
    )

    @model_validator(mode="after")
    def _duplicate_names_the_original(self) -> WithdrawNotification:
        if self.reason == "duplicate" and not self.duplicate_of:
            raise ValueError("duplicate_of is required when the reason is duplicate")
        return self

    def facts(self) -> dict[str, Any]:
        return {}
