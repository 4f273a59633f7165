"""The command registry is the one description of each action (issue 14): every
command's effects exist, paths are unique, the permission table and refusal words
come from the classes, and only the unit of work moves a case's version."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from workflow.access.permissions import WORDS, Role, command, permissions_of
from workflow.cases.effects import EFFECTS
from workflow.commands.registry import CASE_COMMANDS, COMMANDS

ROOT = Path(__file__).resolve().parents[2]


def test_every_named_effect_exists_and_every_effect_is_used() -> None:
    named = {name for cls in COMMANDS.values() for name in cls.effects}
    assert named <= set(EFFECTS), named - set(EFFECTS)
    assert set(EFFECTS) <= named, set(EFFECTS) - named


def test_paths_are_unique_kebab_case_and_every_command_says_what_it_does() -> None:
    paths = [cls.path for cls in CASE_COMMANDS]
    assert len(paths) == len(set(paths))
    assert all(re.fullmatch(r"[a-z]+(-[a-z]+)*", p) for p in paths), paths
    for cls in COMMANDS.values():
        assert cls.heading, cls.trigger
        assert cls.doing, cls.trigger
        assert cls.__doc__, cls.trigger
        assert WORDS[command(cls.trigger)] == cls.doing


def test_the_permission_table_grants_each_command_to_the_roles_its_class_names() -> None:
    for cls in COMMANDS.values():
        for role in Role:
            granted = command(cls.trigger) in permissions_of(role)
            assert granted == (role.value in cls.granted_to), (cls.trigger, role)


def test_the_engine_never_asks_what_class_a_command_is() -> None:
    tree = ast.parse((ROOT / "workflow/cases/engine.py").read_text())
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and getattr(n.func, "id", "") == "isinstance"
    ]
    assert calls == []


def test_only_the_unit_of_work_moves_a_case_version() -> None:
    bumps = []
    for path in (ROOT / "workflow").rglob("*.py"):
        text = path.read_text()
        for pattern in (r"\.version \+= 1", r"\bversion \+ 1\b", r'"version": case\.version \+'):
            if re.search(pattern, text):
                bumps.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(bumps)) == ["workflow/cases/change.py"]


def test_no_http_words_in_the_domain() -> None:
    for path in (ROOT / "workflow").rglob("*.py"):
        code = path.read_text()
        assert "status_code" not in code, path
        assert not re.search(r"\betag\b", code), path
