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
from datetime import date
from typing import Any, ClassVar

from workflow.core.errors import InvalidFacts
from workflow.core.inputs import Input


class Command(Input):
    """One business action on a case; everything about it is declared here, and the
    routes, permissions, refusal words, OpenAPI, docs and forms are derived from it
    (workflow/commands/registry.py)."""

    trigger: ClassVar[str]  # the rulebook transition it fires
    section: ClassVar[str]  # the stage record it writes
    path: ClassVar[str]  # the URL segment under /cases/{id}/ ("": it opens a case)
    heading: ClassVar[str]  # what it does, in words (route summary, the form's title)
    doing: ClassVar[str]  # the action as words for a refusal: "recording the decision"
    granted_to: ClassVar[tuple[str, ...]] = ("review_group",)  # roles that may do it
    effects: ClassVar[tuple[str, ...]] = ()  # named effects (workflow/cases/effects.py)
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
