"""SQLAlchemy tables. Typed ORM; instants are timezone-aware UTC, dates are dates.

`case` holds the current state, the version used for optimistic concurrency,
and the facts rulebooks count from; `case_event` is the append-only timeline.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY.
BigIntId = BigInteger().with_variant(Integer(), "sqlite")


class UTCDateTime(TypeDecorator[datetime]):
    """Stores aware datetimes as UTC; always returns aware UTC (SQLite keeps no zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; instants must be timezone-aware")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Case(Base):
    __tablename__ = "case"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    local_reference: Mapped[str | None] = mapped_column(String(64))
    rulebook_id: Mapped[str] = mapped_column(String(64))
    rulebook_version: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(64), index=True)
    stage: Mapped[str] = mapped_column(String(64), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    # Facts (workflow/facts.py): the dates rulebook deadlines count from ...
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

    # The latest record of each stage (incident, rapid_review, decision, ...),
    # as accepted by its command; every earlier version is on the timeline.
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    events: Mapped[list[CaseEvent]] = relationship(
        back_populates="case", order_by="CaseEvent.sequence", lazy="raise"
    )

    # Optimistic concurrency: every UPDATE is `... WHERE version = :expected`.
    __mapper_args__ = {"version_id_col": version, "version_id_generator": False}
    __table_args__ = (Index("ix_case_created_at_id", "created_at", "id"),)


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
    """A deadline of a case as last derived from its facts (workflow/deadlines.py).

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

    __table_args__ = (Index("ix_case_deadline_state_due_date", "state", "due_date"),)


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


APPEND_ONLY_TABLES = ("case_event", "deadline_adjustment")


@event.listens_for(Session, "before_flush")
def _refuse_timeline_edits(session: Session, _ctx: Any, _instances: Any) -> None:
    """The ORM half of append-only; database triggers (migration) are the other half."""
    for obj in (*session.dirty, *session.deleted):
        if isinstance(obj, CaseEvent | DeadlineAdjustment) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise PermissionError(f"{obj.__tablename__} is append-only")
