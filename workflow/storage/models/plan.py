"""The back half of a review: recommendations, their actions and progress,
documents (immutable versions), thematic-review links and learning-theme tags."""

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
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from workflow.storage.models.base import Base, BigIntId, JSONType, UTCDateTime

# an action still to do (workflow.cases.action_plan.OPEN_STATUSES)
OPEN_WHERE = "status IN ('not_started', 'in_progress', 'completed_awaiting_evidence')"


class Recommendation(Base):
    __tablename__ = "recommendation"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("case_id", "number"),)


class Action(Base):
    """One action of a case's action plan, owned by an agency."""

    __tablename__ = "action"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    recommendation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("recommendation.id"))
    description: Mapped[str] = mapped_column(Text)
    agency: Mapped[str] = mapped_column(String(32))
    agency_name: Mapped[str | None] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(200))  # role or contact, as agreed
    owner_username: Mapped[str | None] = mapped_column(String(128))
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(32))
    status_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_action_status_due_date", "status", "due_date"),
        Index("ix_action_agency_status", "agency", "status"),
        # open actions by agency (dashboard; migration 0008): the open ones are few
        Index(
            "ix_action_open_agency_due",
            "agency",
            "due_date",
            "case_id",
            postgresql_where=text(OPEN_WHERE),
            sqlite_where=text(OPEN_WHERE),
        ),
    )


class ActionUpdate(Base):
    """Progress on an action: status, note, evidence. Append-only."""

    __tablename__ = "action_update"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    action_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("action.id"), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(Text)
    evidence: Mapped[list[Any]] = mapped_column(JSONType, default=list)  # document ids


class Document(Base):
    """A document of a case (report draft/final, summary, leaflet, evidence ...)."""

    __tablename__ = "document"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    title: Mapped[str] = mapped_column(String(200))
    redacted: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(128))


class DocumentVersion(Base):
    """One immutable version of a document's content. Append-only."""

    __tablename__ = "document_version"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    document_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("document.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    filename: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(255))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uploaded_by: Mapped[str] = mapped_column(String(128))

    __table_args__ = (UniqueConstraint("document_id", "version"),)


class CaseLink(Base):
    """A thematic review carrying the learning of a source case."""

    __tablename__ = "case_link"

    thematic_case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), primary_key=True)
    source_case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("case.id"), primary_key=True, index=True
    )
    linked_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ThemeTag(Base):
    """A learning theme on a case, a recommendation or an action."""

    __tablename__ = "theme_tag"

    subject_type: Mapped[str] = mapped_column(String(16), primary_key=True)
    subject_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    theme: Mapped[str] = mapped_column(String(64), primary_key=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("case.id"), index=True)

    __table_args__ = (Index("ix_theme_tag_theme_subject_type", "theme", "subject_type"),)
