"""Response models for rulebooks (the process as data)."""

from __future__ import annotations

from pydantic import BaseModel

from workflow.rulebook import DeadlineDef, StateDef, TransitionDef


class RulebookSummary(BaseModel):
    id: str
    version: int
    title: str
    nation: str
    calendar: str


class RulebookOut(RulebookSummary):
    rapid_review_clock_start: str
    states: list[StateDef]
    transitions: list[TransitionDef]
    deadlines: list[DeadlineDef]


class RulebookList(BaseModel):
    items: list[RulebookSummary]
