"""Commissioning and conducting a local child safeguarding practice review (LCSPR).

SI 2018/789 reg. 11-13: the partners commission a reviewer who is independent of
the case and the agencies reviewed, agree the scope, and receive a final report
with recommendations and an analysis of systemic reasons; reg. 14: they monitor
the time taken and the quality.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field, model_validator

from workflow.commands.base import Command
from workflow.core.inputs import CaseDate


class CommissionReviewer(Command):
    """An independent reviewer is commissioned to lead the LCSPR."""

    trigger: ClassVar[str] = "commission_reviewer"
    section: ClassVar[str] = "reviewer"
    path: ClassVar[str] = "reviewer"
    heading: ClassVar[str] = "Commission the independent reviewer"
    doing: ClassVar[str] = "commissioning a reviewer"
    effects: ClassVar[tuple[str, ...]] = ("assign_reviewer",)
    past_dates: ClassVar[tuple[str, ...]] = ("commissioned_date",)
    not_before: ClassVar[dict[str, str]] = {"commissioned_date": "decision_date"}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"declaration"})

    reviewer_name: str = Field(min_length=1, max_length=200)
    organisation: str | None = Field(default=None, max_length=200)
    commissioned_date: CaseDate
    independence_declared: bool = Field(
        description="The reviewer declares no connection to the case or the agencies reviewed."
    )
    declaration: str | None = Field(default=None, max_length=5_000)
    reviewer_username: str | None = Field(
        default=None,
        max_length=128,
        description="The reviewer's user account, if they will use the engine: it is given "
        "access to this case only (role reviewer in the case's partnership).",
    )

    def facts(self) -> dict[str, Any]:
        return {
            "reviewer_commissioned_date": self.commissioned_date,
            "reviewer_independent": self.independence_declared,
        }


class AgreeTermsOfReference(Command):
    """The partners agree the review's terms of reference and scope period."""

    trigger: ClassVar[str] = "agree_terms_of_reference"
    section: ClassVar[str] = "terms_of_reference"
    path: ClassVar[str] = "terms-of-reference"
    heading: ClassVar[str] = "Agree terms of reference"
    doing: ClassVar[str] = "agreeing the terms of reference"
    past_dates: ClassVar[tuple[str, ...]] = ("agreed_date",)
    not_before: ClassVar[dict[str, str]] = {"agreed_date": "reviewer_commissioned_date"}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"key_lines_of_enquiry", "methodology"})

    agreed_date: CaseDate
    scope_start_date: CaseDate
    scope_end_date: CaseDate
    key_lines_of_enquiry: list[str] = Field(min_length=1, max_length=30)
    methodology: str | None = Field(default=None, max_length=2_000)

    @model_validator(mode="after")
    def _scope_in_order(self) -> AgreeTermsOfReference:
        if self.scope_end_date < self.scope_start_date:
            raise ValueError("scope_end_date is before scope_start_date")
        return self

    def facts(self) -> dict[str, Any]:
        return {"terms_of_reference_date": self.agreed_date}


class ReceiveFinalReport(Command):
    """The final report is received, with its recommendations (reg. 13)."""

    trigger: ClassVar[str] = "receive_final_report"
    section: ClassVar[str] = "report"
    path: ClassVar[str] = "report"
    heading: ClassVar[str] = "Record the final report"
    doing: ClassVar[str] = "receiving the final report"
    granted_to: ClassVar[tuple[str, ...]] = ("review_group", "reviewer")
    effects: ClassVar[tuple[str, ...]] = ("create_recommendations",)
    past_dates: ClassVar[tuple[str, ...]] = ("received_date",)
    not_before: ClassVar[dict[str, str]] = {"received_date": "terms_of_reference_date"}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"recommendations", "systemic_analysis"})

    received_date: CaseDate
    recommendations: list[str] = Field(min_length=1, max_length=100)
    systemic_analysis: str | None = Field(default=None, max_length=20_000)

    def facts(self) -> dict[str, Any]:
        return {"final_report_date": self.received_date}
