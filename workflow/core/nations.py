"""The four UK nations: each runs its own kind of review under its own law, counts
working days on its own bank holidays and calls its bodies by its own names.

A partnership has a nation (default England). The nation picks, for the partnership's
new cases, the default rulebook (a setting per nation, config/settings.py), the
bank-holiday division of its calendar, and the words the pages and the rulebook API
use (config/nations.yaml). Pure: standard library, pydantic and PyYAML only.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from workflow.core.calendar import Division
from workflow.core.errors import RulebookInvalid

Nation = Literal["england", "wales", "scotland", "northern_ireland"]
NATIONS: tuple[Nation, ...] = get_args(Nation)
DEFAULT_NATION: Nation = "england"
# The file shipped with the code (CASEREVIEW_NATIONS_FILE may name another).
BUNDLED_FILE = Path(__file__).resolve().parents[2] / "config" / "nations.yaml"

# Wales shares England's bank holidays (the `holidays` package's ENG subdivision).
DIVISION_OF: dict[Nation, Division] = {
    "england": Division.ENGLAND_AND_WALES,
    "wales": Division.ENGLAND_AND_WALES,
    "scotland": Division.SCOTLAND,
    "northern_ireland": Division.NORTHERN_IRELAND,
}


class Vocabulary(BaseModel):
    """The words one nation uses for its bodies and its review."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, max_length=60)  # "Wales"
    board: str = Field(min_length=1, max_length=120)  # the local body that reviews
    national_body: str = Field(min_length=1, max_length=120)  # who is told / receives reports
    review: str = Field(min_length=1, max_length=120)  # the review's name, lower case


class NationsFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    nations: dict[Nation, Vocabulary]


class NationBook:
    """Every nation's words; immutable after loading. A nation missing from the file
    makes loading fail, so a page never falls back to England's words by accident."""

    def __init__(self, words: dict[Nation, Vocabulary]) -> None:
        missing = [n for n in NATIONS if n not in words]
        if missing:
            raise RulebookInvalid("nations", [f"no vocabulary for nation {n!r}" for n in missing])
        self._words = dict(words)

    @classmethod
    def load(cls, path: Path) -> NationBook:
        with path.open(encoding="utf-8") as fh:
            data: Any = yaml.safe_load(fh) or {}
        try:
            parsed = NationsFile.model_validate(data)
        except ValidationError as exc:
            problems = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
            raise RulebookInvalid(path.name, problems) from None
        return cls(parsed.nations)

    @classmethod
    def bundled(cls) -> NationBook:
        return cls.load(BUNDLED_FILE)

    def words(self, nation: str, review_name: str | None = None) -> Vocabulary:
        """The nation's words; `review_name` (a rulebook's own, e.g. Wales's child
        practice reviews before the SUSR) replaces its usual name for the review."""
        words = self._words[nation_of(nation)]
        return words if review_name is None else words.model_copy(update={"review": review_name})


def nation_of(value: str) -> Nation:
    """`value` as a Nation, or ValueError naming the valid ones."""
    for nation in NATIONS:
        if value == nation:
            return nation
    raise ValueError(f"unknown nation {value!r}; expected one of {', '.join(NATIONS)}")
