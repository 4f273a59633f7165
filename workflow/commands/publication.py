"""Pre-publication, publication, deferral and the decision not to publish.

SI 2018/789 reg. 15 and Working Together 2023 ch.5: the final report goes to the
Panel and the Secretary of State at least 7 working days before publication; the
partners publish it unless they judge it inappropriate, in which case they
publish information about the improvements and tell the Panel why. Publication
is often deferred until criminal proceedings or an inquest conclude.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import AnyHttpUrl, Field, model_validator

from workflow.commands.base import Command
from workflow.core.inputs import CaseDate

PublishedItem = Literal[
    "overview_report",
    "executive_summary",
    "improvement_report",
    "media_statement",
    "learning_leaflet",
    "terms_of_reference",
]
Proceedings = Literal["criminal_trial", "inquest", "other"]


def _overview_only() -> list[PublishedItem]:
    return ["overview_report"]


class SendReportToPanel(Command):
    """The final report went to the Panel and the Secretary of State."""

    trigger: ClassVar[str] = "send_report_to_panel"
    section: ClassVar[str] = "pre_publication"
    path: ClassVar[str] = "pre-publication"
    heading: ClassVar[str] = "Record the report sent to the Panel and Secretary of State"
    doing: ClassVar[str] = "sending the report to the national panel"
    past_dates: ClassVar[tuple[str, ...]] = ("sent_date",)
    not_before: ClassVar[dict[str, str]] = {"sent_date": "final_report_date"}

    sent_date: CaseDate
    planned_publication_date: CaseDate

    @model_validator(mode="after")
    def _plan_after_sending(self) -> SendReportToPanel:
        if self.planned_publication_date < self.sent_date:
            raise ValueError("planned_publication_date is before sent_date")
        return self

    def facts(self) -> dict[str, Any]:
        return {
            "report_sent_to_panel_date": self.sent_date,
            "planned_publication_date": self.planned_publication_date,
        }


class PublishReport(Command):
    """The report is published (kept online at least 12 months)."""

    trigger: ClassVar[str] = "publish_report"
    section: ClassVar[str] = "publication"
    path: ClassVar[str] = "publication"
    heading: ClassVar[str] = "Record publication"
    doing: ClassVar[str] = "publishing the report"
    past_dates: ClassVar[tuple[str, ...]] = ("published_date",)
    not_before: ClassVar[dict[str, str]] = {"published_date": "report_sent_to_panel_date"}

    published_date: CaseDate
    url: AnyHttpUrl
    items: list[PublishedItem] = Field(default_factory=_overview_only, min_length=1, max_length=6)

    def facts(self) -> dict[str, Any]:
        # The plan becomes the actual date, so "sent to the Panel at least 7 working days
        # before publication" is judged against the day it really happened (reg. 15).
        return {
            "published_date": self.published_date,
            "publication_status": "published",
            "planned_publication_date": self.published_date,
        }


class DeferPublication(Command):
    """Publication is deferred for parallel proceedings (criminal trial, inquest)."""

    trigger: ClassVar[str] = "defer_publication"
    section: ClassVar[str] = "deferral"
    path: ClassVar[str] = "publication-deferral"
    heading: ClassVar[str] = "Defer publication"
    doing: ClassVar[str] = "deferring publication"
    effects: ClassVar[tuple[str, ...]] = ("pause_pausable_deadlines",)
    past_dates: ClassVar[tuple[str, ...]] = ("deferred_date",)
    not_before: ClassVar[dict[str, str]] = {"deferred_date": "final_report_date"}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"details"})

    deferred_date: CaseDate
    proceedings: list[Proceedings] = Field(min_length=1, max_length=3)
    details: str | None = Field(default=None, max_length=5_000)
    review_by_date: CaseDate = Field(description="When the deferral is next reviewed.")

    @model_validator(mode="after")
    def _review_later(self) -> DeferPublication:
        if self.review_by_date < self.deferred_date:
            raise ValueError("review_by_date is before deferred_date")
        return self

    def facts(self) -> dict[str, Any]:
        return {
            "deferred_date": self.deferred_date,
            "deferral_review_by_date": self.review_by_date,
            "publication_status": "delayed_parallel_proceedings",
        }


class ResumePublication(Command):
    """The proceedings concluded; publication is back on track."""

    trigger: ClassVar[str] = "resume_publication"
    section: ClassVar[str] = "resumption"
    path: ClassVar[str] = "publication-resumption"
    heading: ClassVar[str] = "Resume deferred publication"
    doing: ClassVar[str] = "resuming publication"
    effects: ClassVar[tuple[str, ...]] = ("resume_paused_deadlines",)
    past_dates: ClassVar[tuple[str, ...]] = ("resumed_date",)
    not_before: ClassVar[dict[str, str]] = {"resumed_date": "deferred_date"}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"reason"})

    resumed_date: CaseDate
    reason: str = Field(min_length=1, max_length=5_000)
    planned_publication_date: CaseDate | None = None

    @model_validator(mode="after")
    def _plan_after_resuming(self) -> ResumePublication:
        if self.planned_publication_date and self.planned_publication_date < self.resumed_date:
            raise ValueError("planned_publication_date is before resumed_date")
        return self

    def facts(self) -> dict[str, Any]:
        out: dict[str, Any] = {"deferral_review_by_date": None, "publication_status": None}
        if self.planned_publication_date is not None:
            out["planned_publication_date"] = self.planned_publication_date
        return out


class DecideNotToPublish(Command):
    """The partners judge publication inappropriate and tell the Panel why."""

    trigger: ClassVar[str] = "decide_not_to_publish"
    section: ClassVar[str] = "non_publication"
    path: ClassVar[str] = "non-publication"
    heading: ClassVar[str] = "Decide not to publish"
    doing: ClassVar[str] = "deciding not to publish"
    past_dates: ClassVar[tuple[str, ...]] = ("decided_date",)
    not_before: ClassVar[dict[str, str]] = {"decided_date": "final_report_date"}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"reasons"})

    decided_date: CaseDate
    status: Literal["unpublished_to_protect_identity", "improvements_published_instead"]
    reasons: str = Field(min_length=1, max_length=10_000)
    improvements_url: AnyHttpUrl | None = None

    def facts(self) -> dict[str, Any]:
        return {"publication_status": self.status}


class WithdrawPublication(Command):
    """The report is taken offline (after at least 12 months); available on request."""

    trigger: ClassVar[str] = "withdraw_publication"
    section: ClassVar[str] = "withdrawal"
    path: ClassVar[str] = "publication-withdrawal"
    heading: ClassVar[str] = "Record the report withdrawn"
    doing: ClassVar[str] = "withdrawing publication"
    past_dates: ClassVar[tuple[str, ...]] = ("withdrawn_date",)
    not_before: ClassVar[dict[str, str]] = {"withdrawn_date": "published_date"}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"note"})

    withdrawn_date: CaseDate
    available_on_request: bool = True
    note: str | None = Field(default=None, max_length=2_000)

    def facts(self) -> dict[str, Any]:
        return {"withdrawn_date": self.withdrawn_date, "publication_status": "no_longer_published"}
