"""Counts of cases kept by database triggers; the application never writes them.

`case_tally`: per partnership, how many cases and the sum of their versions
(migration 0007), read by the list and dashboard ETags (workflow/reads/etags.py),
so a poll costs one row per partnership instead of a scan of every case.
`case_stage_tally`: per partnership and stage, how many cases (migration 0009), read
by the dashboard's cases by stage. Both are written in the transaction that inserts,
updates or deletes a case."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from workflow.storage.models.base import Base


class CaseTally(Base):
    __tablename__ = "case_tally"

    partnership_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partnership.id"), primary_key=True
    )
    cases: Mapped[int] = mapped_column(BigInteger)
    version_sum: Mapped[int] = mapped_column(BigInteger)


class CaseStageTally(Base):
    __tablename__ = "case_stage_tally"

    partnership_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partnership.id"), primary_key=True
    )
    stage: Mapped[str] = mapped_column(String(64), primary_key=True)
    cases: Mapped[int] = mapped_column(BigInteger)  # 0 once its last case has moved on
