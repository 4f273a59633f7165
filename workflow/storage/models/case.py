"""Case tables: `case` holds the current state, the version used for optimistic
concurrency and the facts rulebooks count from; `case_event` is the append-only
timeline; `case_deadline` and `deadline_adjustment` hold the statutory clock."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from workflow.storage.models.base import Base, BigIntId, JSONType, UTCDateTime


class Case(Base):
    __tablename__ = "case"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    partnership_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partnership.id"))
    kind: Mapped[str] = mapped_column(String(16), default="incident")  # incident | thematic
    title: Mapped[str | None] = mapped_column(String(200))  # thematic reviews
    local_reference: Mapped[str | None] = mapped_column(String(64))
    rulebook_id: Mapped[str] = mapped_column(String(64))
    rulebook_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(64), index=True)
    stage: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # Facts (workflow/core/facts.py): the dates rulebook deadlines count from ...
    incident_date: Mapped[date | None] = mapped_column(Date)
    aware_date: Mapped[date | None] = mapped_column(Date)
    notification_date: Mapped[date | None] = mapped_column(Date)
    partners_informed_date: Mapped[date | None] = mapped_column(Date)
    rapid_review_meeting_date: Mapped[date | None] = mapped_column(Date)
    rapid_review_sent_date: Mapped[date | None] = mapped_column(Date)
    decision_date: Mapped[date | None] = mapped_column(Date)
    decision_sent_to_panel_date: Mapped[date | None] = mapped_column(Date)
    panel_response_date: Mapped[date | None] = mapped_column(Date)
    reviewer_commissioned_date: Mapped[date | None] = mapped_column(Date)
    terms_of_reference_date: Mapped[date | None] = mapped_column(Date)
    final_report_date: Mapped[date | None] = mapped_column(Date)
    report_sent_to_panel_date: Mapped[date | None] = mapped_column(Date)
    planned_publication_date: Mapped[date | None] = mapped_column(Date)
    published_date: Mapped[date | None] = mapped_column(Date)
    withdrawn_date: Mapped[date | None] = mapped_column(Date)
    deferred_date: Mapped[date | None] = mapped_column(Date)
    deferral_review_by_date: Mapped[date | None] = mapped_column(Date)
    closed_date: Mapped[date | None] = mapped_column(Date)
    family_informed_date: Mapped[date | None] = mapped_column(Date)
    family_invited_date: Mapped[date | None] = mapped_column(Date)
    family_contributed_date: Mapped[date | None] = mapped_column(Date)
    family_declined_date: Mapped[date | None] = mapped_column(Date)
    family_told_before_publication_date: Mapped[date | None] = mapped_column(Date)
    practitioner_event_date: Mapped[date | None] = mapped_column(Date)
    # ... and the flags and choices guards read.
    notifiable: Mapped[bool] = mapped_column(Boolean)
    meets_review_criteria: Mapped[bool] = mapped_column(Boolean)
    decision: Mapped[str | None] = mapped_column(String(32))
    panel_agrees: Mapped[bool | None] = mapped_column(Boolean)
    panel_takes_national_review: Mapped[bool | None] = mapped_column(Boolean)
    reviewer_independent: Mapped[bool | None] = mapped_column(Boolean)
    publication_status: Mapped[str | None] = mapped_column(String(48))
    close_reason: Mapped[str | None] = mapped_column(Text)
    open_actions: Mapped[int] = mapped_column(Integer, default=0)
    unactioned_recommendations: Mapped[int] = mapped_column(Integer, default=0)
    carried_by_thematic: Mapped[bool] = mapped_column(Boolean, default=False)
    # The earliest due date of the case's pending deadlines (NULL without one), for
    # the overdue list: written only by triggers on `case_deadline` (migration 0009),
    # so a loaded Case may hold a stale value; filter on it in SQL, never read it here.
    next_due_date: Mapped[date | None] = mapped_column(Date)

    # The latest record of each stage (incident, rapid_review, decision, ...),
    # as accepted by its command; every earlier version is on the timeline.
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.sequence", lazy="raise"
    )

    # Optimistic concurrency: every UPDATE is `... WHERE version = :expected`.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    __table_args__ = (
        # keyset pages of every case; next_due_date for the overdue list (migration 0009)
        Index("ix_case_created_at_id_next_due_date", "created_at", "id", "next_due_date"),
        # keyset pages of one partnership: (created_at, id) order within it
        Index("ix_case_partnership_id_created_at_id", "partnership_id", "created_at", "id"),
        # dashboard medians (migration 0008): the (start, end) pairs of the intervals
        # ending in the period, read from the index alone, national or per partnership
        Index("ix_case_notification_date", "notification_date", "aware_date", "partnership_id"),
        Index(
            "ix_case_rapid_review_sent_date",
            "rapid_review_sent_date",
            "notification_date",
            "partnership_id",
        ),
        Index("ix_case_decision_date", "decision_date", "rapid_review_sent_date", "partnership_id"),
        Index("ix_case_published_date", "published_date", "decision_date", "partnership_id"),
    )


class CaseEvent(Base):
    """One entry of a case's timeline. Append-only: never updated or deleted."""

    __tablename__ = "case_event"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)  # the case version this event produced
    event_type: Mapped[str] = mapped_column(String(64))
    from_state: Mapped[str | None] = mapped_column(String(64))
    to_state: Mapped[str] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    case: Mapped[Case] = relationship(back_populates="events")

    __table_args__ = (UniqueConstraint("case_id", "sequence"),)


class CaseDeadline(Base):
    """A deadline of a case as last derived from its facts (workflow/core/deadlines.py).

    Rewritten in the same transaction as every change of the case, so lists can
    filter on overdue / due-soon in SQL. `state` is stored without reference to
    today (pending, paused, met, not_started, not_applicable); whether a pending
    deadline is overdue is decided at query time from `due_date`."""

    __tablename__ = "case_deadline"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[str] = mapped_column(String(32))
    from_date: Mapped[date | None] = mapped_column(Date)
    due_date: Mapped[date | None] = mapped_column(Date)
    met_date: Mapped[date | None] = mapped_column(Date)
    on_time: Mapped[bool | None] = mapped_column(Boolean)

    __table_args__ = (
        Index("ix_case_deadline_state_due_date", "state", "due_date"),
        # partial indexes (migration 0008): live deadlines are few, met ones many
        Index(
            "ix_case_deadline_pending_case_due",
            "case_id",
            "due_date",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index(
            "ix_case_deadline_pending_name_due",
            "name",
            "due_date",
            "case_id",
            postgresql_where=text("state = 'pending'"),
            sqlite_where=text("state = 'pending'"),
        ),
        Index(
            "ix_case_deadline_met_name_date",
            "name",
            "met_date",
            "on_time",
            "case_id",
            postgresql_where=text("state = 'met'"),
            sqlite_where=text("state = 'met'"),
        ),
    )


class DeadlineAdjustment(Base):
    """A pause, resumption or extension of one deadline of a case. Append-only."""

    __tablename__ = "deadline_adjustment"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    deadline: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # pause | resume | extension
    effective_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    event_sequence: Mapped[int] = mapped_column(Integer)  # the timeline event recording it


class CaseAssignment(Base):
    """A person given access to one case only (an independent reviewer)."""

    __tablename__ = "case_assignment"

    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("app_user.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)


APPEND_ONLY_TABLES = (
    "case_event",
    "deadline_adjustment",
    "audit_record",
    "action_update",
    "document_version",
)


@event.listens_for(Session, "before_flush")
def _refuse_timeline_edits(session: Session, _ctx: Any, _instances: Any) -> None:
    """The ORM half of append-only; database triggers (migration) are the other half."""
    for obj in (*session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table in APPEND_ONLY_TABLES and (obj in session.deleted or session.is_modified(obj)):
            raise PermissionError(f"{table} is append-only")
