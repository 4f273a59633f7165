"""The one registry of commands: trigger -> command class.

Adding a command means writing its class (in a module of this package, listed in
`_MODULES`), its rulebook transition and its tests; the API route, the permission
table's grants, the refusal words and the docs are derived from the class.
"""

from __future__ import annotations

from collections.abc import Iterator

from workflow.commands import (
    branches,
    closure,
    commissioning,
    intake,
    involvement,
    publication,
    rapid_review,
    thematic,
)
from workflow.commands.base import Command

_MODULES = (
    intake,
    rapid_review,
    branches,
    commissioning,
    publication,
    closure,
    involvement,
    thematic,
)


def _commands() -> Iterator[type[Command]]:
    for module in _MODULES:
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Command)
                and value is not Command
                and value.__module__ == module.__name__
            ):
                yield value


COMMANDS: dict[str, type[Command]] = {c.trigger: c for c in _commands()}

# The commands addressed to an existing case (POST /cases/{id}/<path>), in rulebook
# order of the case's life; log_incident and open_thematic_review open cases.
CASE_COMMANDS: tuple[type[Command], ...] = tuple(c for c in COMMANDS.values() if c.path)
PATH_OF_TRIGGER: dict[str, str] = {c.trigger: c.path for c in CASE_COMMANDS}


def granted_to(role: str) -> tuple[str, ...]:
    """The triggers a role's members may fire (within the role's scope)."""
    return tuple(t for t, c in COMMANDS.items() if role in c.granted_to)
