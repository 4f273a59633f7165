"""What every command shares: its input contract and the checks of its dates.

A command is a Pydantic model (unknown fields rejected) that names the rulebook
trigger it fires, the stage record it writes (`section`) and the case facts it
sets. Date rules are declared, not coded per command:

- `past_dates`: fields recording something that happened; never after today.
- `not_before`: field -> fact (or facts); the field may not be earlier than any of them
  that is recorded. Name a fact every rulebook records (e.g. aware_date) next to a
  path-specific one: a fact that a rulebook's path never records (the rapid review
  dates under the SCR regime) bounds nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from workflow.access.principal import Principal
from workflow.calendars import CalendarBook
from workflow.errors import InvalidFacts
from workflow.inputs import Input
from workflow.rulebook import RulebookRegistry

# Statutory days are English (or Scottish / Northern Irish) days, not UTC days.
LOCAL_ZONE = ZoneInfo("Europe/London")


class Command(Input):
    trigger: ClassVar[str]
    section: ClassVar[str]
    past_dates: ClassVar[tuple[str, ...]] = ()
    not_before: ClassVar[Mapping[str, str | tuple[str, ...]]] = {}

    def facts(self) -> dict[str, Any]:
        """The case facts this command sets (column name -> value)."""
        return {}

    def record_key(self) -> str:
        """Where the command's record is kept in the case's stage records."""
        return self.section

    def check_dates(self, recorded: Mapping[str, Any], today: date) -> None:
        """Raise InvalidFacts naming the field when a date breaks a declared rule."""
        for name in self.past_dates:
            value = getattr(self, name)
            if value is not None and value > today:
                raise InvalidFacts(f"{name} ({value}) is in the future (today is {today})", name)
        for name, facts in self.not_before.items():
            for fact in (facts,) if isinstance(facts, str) else facts:
                value, earlier = getattr(self, name), recorded.get(fact)
                if value is not None and earlier is not None and value < earlier:
                    raise InvalidFacts(
                        f"{name} ({value}) is before the case's {fact} ({earlier})", name
                    )


@dataclass(frozen=True)
class Context:
    """Who acts, when and from where. Time is an input: services never read the clock."""

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
