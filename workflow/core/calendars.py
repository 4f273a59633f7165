"""The working-day calendars in use: a division's bank holidays plus the local
closure days and worked bank holidays configured in config/calendar.yaml."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field

from workflow.core.calendar import Division, WorkingDayCalendar, calendar_for


class LocalDays(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    closures: dict[date, str] = Field(default_factory=dict)
    working_days: list[date] = Field(default_factory=list)


class CalendarFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    divisions: dict[Division, LocalDays] = Field(default_factory=dict)
    partnerships: dict[str, LocalDays] = Field(default_factory=dict)


class CalendarBook:
    """Gives the calendar for (division, partnership). Immutable after loading."""

    def __init__(self, config: CalendarFile | None = None) -> None:
        self.config = config or CalendarFile()

    @classmethod
    def load(cls, path: Path | None) -> CalendarBook:
        if path is None or not path.exists():
            return cls()
        with path.open(encoding="utf-8") as fh:
            data: Any = yaml.safe_load(fh) or {}
        return cls(CalendarFile.model_validate(data))

    def calendar(self, division: str, partnership: str | None = None) -> WorkingDayCalendar:
        return _build(self, Division(division), partnership)

    def for_partnership(self, partnership: str | None) -> Any:
        """A `division -> calendar` function for one partnership (workflow.core.deadlines)."""
        return lambda division: self.calendar(division, partnership)


@lru_cache(maxsize=512)
def _build(book: CalendarBook, division: Division, partnership: str | None) -> WorkingDayCalendar:
    closures: dict[date, str] = {}
    working: set[date] = set()
    for local in (
        book.config.divisions.get(division),
        book.config.partnerships.get(partnership or ""),
    ):
        if local is not None:
            closures.update(local.closures)
            working.update(local.working_days)
    return calendar_for(division, closures=_labelled(closures), working_overrides=working)


def _labelled(closures: Mapping[date, str]) -> dict[date, str]:
    return {day: label or "local closure" for day, label in closures.items()}
