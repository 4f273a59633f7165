"""Response models for rulebooks (the process as data)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field

from workflow.core.nations import Vocabulary
from workflow.core.rulebook import DeadlineDef, StateDef, TransitionDef


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
    effective_from: date | None
    effective_to: date | None
    review_name: str | None = Field(description="The review's name under this rulebook.")
    vocabulary: Vocabulary = Field(
        description="The nation's words (config/nations.yaml): its board, the national body "
        "told of decisions and sent reports, and the review's name."
    )
    mermaid: str = Field(description="The state diagram (Mermaid), generated from the data.")


class RulebookList(BaseModel):
    items: list[RulebookSummary]
