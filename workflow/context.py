"""Who acts, when and from where: the one argument every service takes.

Time is an input: services read `ctx.now`, never the clock. `audit` is the one way
to write an audit record (the chain's nine fields, four of them from here).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from workflow.access.principal import Principal
from workflow.audit import chain as audit_chain
from workflow.core.calendars import CalendarBook
from workflow.core.rulebook import RulebookRegistry

# Statutory days are English (or Scottish / Northern Irish) days, not UTC days.
LOCAL_ZONE = ZoneInfo("Europe/London")


@dataclass(frozen=True)
class Context:
    """Who acts, when and from where, with the rulebooks and calendars in force."""

    rulebooks: RulebookRegistry
    principal: Principal
    now: datetime
    client: str = ""
    calendars: CalendarBook = field(default_factory=CalendarBook)
    rag_amber_working_days: int = 3

    @property
    def actor(self) -> str:
        return self.principal.username

    @property
    def today(self) -> date:
        return self.now.astimezone(LOCAL_ZONE).date()

    def audit(
        self,
        session: Session,
        action: str,
        *,
        chain: str,
        case_id: uuid.UUID | None = None,
        outcome: str = "ok",
        detail: Mapping[str, Any] | None = None,
    ) -> str:
        """Append one record by this actor, now, from this client to `chain` in the
        caller's transaction; returns its hash. `detail` holds ids, numbers and words
        of the action only, never personal data."""
        return audit_chain.append(
            session,
            chain=chain,
            occurred_at=self.now,
            actor=self.actor,
            action=action,
            case_id=case_id,
            client=self.client,
            outcome=outcome,
            detail=detail,
        )
