"""`case_tally`: per partnership, how many cases and the sum of their versions.

Written only by database triggers (migration 0007) in the transaction that inserts,
updates or deletes a case; read by the list and dashboard ETags
(workflow/services/etags.py), so a poll costs one row per partnership instead of a
scan of every case. The application never writes it."""

from __future__ import annotations

import uuid

from sqlalchemy import BigInteger, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from workflow.models.base import Base


class CaseTally(Base):
    __tablename__ = "case_tally"

    partnership_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partnership.id"), primary_key=True
    )
    cases: Mapped[int] = mapped_column(BigInteger)
    version_sum: Mapped[int] = mapped_column(BigInteger)
