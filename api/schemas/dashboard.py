"""Response (and request) models of the dashboard, the annual report and the
calendar feeds. None carries personal data."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from pydantic import BaseModel, Field

from workflow.core.inputs import Input
from workflow.reads.dashboard import Dashboard, Median, Share, Timeliness
from workflow.reads.reports import AnnualReport
from workflow.storage.models import FeedToken


class ShareOut(BaseModel):
    met: int = Field(description="Deadlines met in the period (by the date met).")
    on_time: int = Field(description="Of those, met on or before the due date.")
    share: float | None = Field(description="on_time / met (4 decimals); null when none met.")

    @classmethod
    def of(cls, s: Share) -> ShareOut:
        return cls(met=s.met, on_time=s.on_time, share=s.share)


class MedianOut(BaseModel):
    cases: int = Field(description="Cases whose interval ends in the period.")
    median_working_days: float | None = Field(
        description="Working days (England and Wales) from start to end: days after the "
        "start up to and including the end; null when no case."
    )

    @classmethod
    def of(cls, m: Median) -> MedianOut:
        return cls(cases=m.cases, median_working_days=m.working_days)


class TimelinessOut(BaseModel):
    period_start: date
    period_end: date
    notifications: ShareOut = Field(
        description="panel_notification: notified within 5 working days of awareness."
    )
    rapid_reviews: ShareOut = Field(
        description="rapid_review_sent: sent within 15 working days (from awareness or "
        "notification, per the case's rulebook)."
    )
    lcsprs: ShareOut = Field(
        description="lcspr_published: published within 6 months of the decision."
    )
    median_working_days: dict[str, MedianOut] = Field(
        description="aware_to_notification, notification_to_rapid_review, "
        "rapid_review_to_decision, decision_to_publication; a case counts in the period "
        "of the interval's end date."
    )

    @classmethod
    def of(cls, t: Timeliness) -> TimelinessOut:
        return cls(
            period_start=t.start,
            period_end=t.end,
            notifications=ShareOut.of(t.shares["notifications"]),
            rapid_reviews=ShareOut.of(t.shares["rapid_reviews"]),
            lcsprs=ShareOut.of(t.shares["lcsprs"]),
            median_working_days={k: MedianOut.of(m) for k, m in t.medians.items()},
        )


class DueSoonItem(BaseModel):
    case_id: uuid.UUID
    local_reference: str | None
    deadline: str
    due_date: date


class DueSoonOut(BaseModel):
    working_days: int
    until: date = Field(description="Pending deadlines due from today up to this date.")
    count: int
    items: list[DueSoonItem] = Field(description="Earliest first; at most 200.")


class AgencyActionsOut(BaseModel):
    open: int = Field(description="Not signed off and not closed as not achieved.")
    overdue: int = Field(description="Open and due before today.")


class DashboardOut(BaseModel):
    as_of: date
    partnership: str | None = Field(description="null: every partnership you may see.")
    cases_by_stage: dict[str, int]
    overdue_deadlines: dict[str, int] = Field(
        description="Pending deadlines due before today, by deadline name."
    )
    due_soon: DueSoonOut
    actions_by_agency: dict[str, AgencyActionsOut]
    timeliness: TimelinessOut

    @classmethod
    def of(cls, d: Dashboard, working_days: int) -> DashboardOut:
        return cls(
            as_of=d.as_of,
            partnership=d.partnership,
            cases_by_stage=d.cases_by_stage,
            overdue_deadlines=d.overdue_deadlines,
            due_soon=DueSoonOut(
                working_days=working_days,
                until=d.due_soon_until,
                count=d.due_soon_count,
                items=[
                    DueSoonItem(
                        case_id=i.case_id,
                        local_reference=i.local_reference,
                        deadline=i.deadline,
                        due_date=i.due_date,
                    )
                    for i in d.due_soon
                ],
            ),
            actions_by_agency={
                k: AgencyActionsOut(open=v.open, overdue=v.overdue)
                for k, v in d.actions_by_agency.items()
            },
            timeliness=TimelinessOut.of(d.timeliness),
        )


class AnnualReportOut(BaseModel):
    year: int
    partnership: str | None
    reviews_notified: int = Field(description="Cases with a notification date in the year.")
    rapid_reviews_completed: int = Field(description="Rapid reviews sent to the Panel.")
    decisions: dict[str, int] = Field(description="Decisions dated in the year, by outcome.")
    reviews_published: int = Field(description="Review reports published in the year.")
    themes: dict[str, int] = Field(
        description="Cases per theme, among those notified, decided or published in the year."
    )
    actions: dict[str, int] = Field(
        description="Actions reported completed, signed off, or closed as not achieved in "
        "the year (completed, signed_off, not_achieved)."
    )
    timeliness: TimelinessOut

    @classmethod
    def of(cls, r: AnnualReport) -> AnnualReportOut:
        return cls(
            year=r.year,
            partnership=r.partnership,
            reviews_notified=r.reviews_notified,
            rapid_reviews_completed=r.rapid_reviews_completed,
            decisions=r.decisions,
            reviews_published=r.reviews_published,
            themes=r.themes,
            actions=r.actions,
            timeliness=TimelinessOut.of(r.timeliness),
        )


class FeedIn(Input):
    partnership: str = Field(min_length=1, max_length=64, description="The partnership's code.")
    label: str = Field(min_length=1, max_length=128, description="e.g. the calendar's name.")


class FeedOut(BaseModel):
    id: uuid.UUID
    partnership: str
    label: str
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def of(cls, feed: FeedToken, partnership: str) -> FeedOut:
        return cls(
            id=feed.id,
            partnership=partnership,
            label=feed.label,
            created_at=feed.created_at,
            revoked_at=feed.revoked_at,
        )


class FeedCreatedOut(FeedOut):
    token: str = Field(description="Shown once: only its hash is kept.")
    url: str = Field(description="The feed's path (append it to the server's address).")


class FeedList(BaseModel):
    items: list[FeedOut]
