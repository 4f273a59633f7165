"""Intake and notification: logging an incident, notifying the Panel and partners.

Children Act 2004 s16C; Working Together 2023 ch.5 paras on notification: the
local authority notifies the Panel within 5 working days of becoming aware, and
informs its local partners in the same period.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from workflow.commands.base import Command
from workflow.core.criteria import IncidentCriteria, assess
from workflow.core.inputs import CaseDate

Text = str  # free text; length limits keep bodies bounded
MAX_CHILDREN = 4  # one notification covers up to 4 children (Panel practice guidance)


class Child(BaseModel):
    """A child named in a notification. Pseudonym only: never a real name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    pseudonym: str = Field(min_length=1, max_length=64, examples=["Child A"])
    age_years: int | None = Field(default=None, ge=0, le=24)
    sex: Literal["female", "male", "other", "not_known"] = "not_known"
    ethnicity: str | None = Field(default=None, max_length=64)
    disability: bool | None = None
    looked_after: bool = False
    plan: Literal["none", "child_protection", "child_in_need", "not_known"] = "not_known"
    known_to_agencies: bool | None = None


class LogIncident(Command):
    """A local authority logs an incident and answers the notification criteria."""

    trigger: ClassVar[str] = "log_incident"
    section: ClassVar[str] = "incident"
    path: ClassVar[str] = ""
    heading: ClassVar[str] = "Log an incident"
    doing: ClassVar[str] = "logging an incident"
    granted_to: ClassVar[tuple[str, ...]] = ("notifier",)
    past_dates: ClassVar[tuple[str, ...]] = ("incident_date", "aware_date")
    not_before: ClassVar[dict[str, str]] = {"aware_date": "incident_date"}
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"case_outline"})

    rulebook: str | None = Field(
        default=None,
        max_length=64,
        description="Rulebook id to open the case under; default: the current rulebook. "
        "Historic cases are entered under their own regime.",
    )
    partnership: str | None = Field(
        default=None,
        max_length=64,
        description="Partnership code; needed only when you log incidents for several.",
    )
    local_reference: str | None = Field(default=None, max_length=64)
    incident_date: CaseDate
    aware_date: CaseDate = Field(description="When the local authority became aware (day 0).")
    location: str = Field(min_length=1, max_length=200)
    criteria: IncidentCriteria
    children: list[Child] = Field(min_length=1, max_length=MAX_CHILDREN)
    case_outline: str = Field(min_length=1, max_length=10_000)
    agencies_involved: list[str] = Field(default_factory=list, max_length=30)

    def facts(self) -> dict[str, Any]:
        outcome = assess(self.criteria)
        return {
            "incident_date": self.incident_date,
            "aware_date": self.aware_date,
            "notifiable": outcome.notifiable,
            "meets_review_criteria": outcome.meets_review_criteria,
        }


class RecordNotification(Command):
    """The Serious Incident Notification was sent to the Panel (and Ofsted, DfE)."""

    trigger: ClassVar[str] = "record_notification"
    section: ClassVar[str] = "notification"
    path: ClassVar[str] = "notification"
    heading: ClassVar[str] = "Record the serious incident notification"
    doing: ClassVar[str] = "recording the notification"
    granted_to: ClassVar[tuple[str, ...]] = ("notifier",)
    past_dates: ClassVar[tuple[str, ...]] = ("notification_date", "partners_informed_date")
    not_before: ClassVar[dict[str, str]] = {
        "notification_date": "aware_date",
        "partners_informed_date": "aware_date",
    }
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"notes"})

    notification_date: CaseDate
    notification_reference: str | None = Field(default=None, max_length=64)
    partners_informed_date: CaseDate | None = None
    notes: Text | None = Field(default=None, max_length=5_000)

    def facts(self) -> dict[str, Any]:
        out: dict[str, Any] = {"notification_date": self.notification_date}
        if self.partners_informed_date is not None:
            out["partners_informed_date"] = self.partners_informed_date
        return out


class RecordPartnersInformed(Command):
    """The local safeguarding partners (and another area's, where relevant) were told."""

    trigger: ClassVar[str] = "record_partners_informed"
    section: ClassVar[str] = "partners_informed"
    path: ClassVar[str] = "partners-informed"
    heading: ClassVar[str] = "Record that partners were informed"
    doing: ClassVar[str] = "recording that partners were informed"
    granted_to: ClassVar[tuple[str, ...]] = ("notifier", "review_group")
    past_dates: ClassVar[tuple[str, ...]] = ("partners_informed_date",)
    not_before: ClassVar[dict[str, str]] = {"partners_informed_date": "aware_date"}

    partners_informed_date: CaseDate
    partners: list[str] = Field(min_length=1, max_length=20)

    def facts(self) -> dict[str, Any]:
        return {"partners_informed_date": self.partners_informed_date}
