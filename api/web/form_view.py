"""A form's fields bound to the answers typed and their errors, as the templates show
them (templates/_fields.html): every input's name and id, the describedby ids and
what the error summary links to."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from api.web.fields import Errors, Spec, Tree
from workflow.core.words import row_label


@dataclass
class Bound:
    spec: Spec
    name: str  # the input's name (and the element's id)
    value: Any  # as typed (a date: its parts; checkboxes: the values ticked)
    error: str | None = None
    parts: list[Bound] = field(default_factory=list)  # a group's fields, or the rows
    label: str = ""
    number: int = 0  # a row's number, from 1

    @property
    def id(self) -> str:
        return self.name

    @property
    def optional(self) -> bool:
        return not self.spec.required and self.spec.kind not in ("yesno", "checkboxes")

    @property
    def describedby(self) -> str:
        ids = [f"{self.id}-hint"] if self.spec.hint else []
        if self.spec.kind == "textarea" and self.spec.max_length:
            ids.append(f"{self.id}-info")
        if self.error:
            ids.append(f"{self.id}-error")
        return " ".join(ids)

    @property
    def target(self) -> str:
        """The id an error summary link for this field points at: its first input."""
        if self.spec.kind == "date":
            return f"{self.id}-day"
        if self.spec.kind in ("group", "rows"):
            return self.parts[0].target if self.parts else f"{self.id}-add"
        return self.id

    @property
    def choices(self) -> list[tuple[str, str]]:
        if self.spec.kind == "yesno":
            return [("yes", "Yes"), ("no", "No")]
        return [(c.value, c.text) for c in self.spec.choices]

    @property
    def can_add(self) -> bool:
        limit = self.spec.max_length
        return self.spec.kind == "rows" and (limit is None or len(self.parts) < limit)


def bind(fields: Sequence[Spec], tree: Tree, errors: Errors, prefix: str = "") -> list[Bound]:
    return [_bind(s, tree.get(s.key), errors, prefix + s.key, s.label) for s in fields]


def _bind(s: Spec, value: Any, errors: Errors, name: str, label: str) -> Bound:
    b = Bound(s, name, value, errors.get(name), label=label)
    if s.kind == "group":
        b.parts = bind(s.members, value if isinstance(value, dict) else {}, errors, name + ".")
    elif s.kind == "rows" and s.item is not None:
        word = row_label(s.key)
        for i, row in enumerate(value if isinstance(value, list) else []):
            part = _bind(s.item, row, errors, f"{name}.{i}", f"{word} {i + 1}")
            part.number = i + 1
            b.parts.append(part)
    return b


def summary(bound: Sequence[Bound], errors: Errors) -> list[tuple[str, str]]:
    """(link target, message) for the error summary, in the order of the form; an error
    no field shows (a rule about the whole form) comes first, linked to the first field."""
    shown: list[tuple[str, str]] = []
    names: set[str] = set()

    def walk(items: Sequence[Bound]) -> None:
        for b in items:
            names.add(b.name)
            if b.error:
                shown.append((b.target, b.error))
            walk(b.parts)

    walk(bound)
    first = bound[0].target if bound else ""
    loose = [(first, message) for name, message in errors.items() if name not in names]
    return loose + shown


def loose_errors(bound: Sequence[Bound], errors: Errors) -> list[str]:
    """The messages no field shows (shown above the fields too)."""
    names: set[str] = set()

    def walk(items: Sequence[Bound]) -> None:
        for b in items:
            names.add(b.name)
            walk(b.parts)

    walk(bound)
    return [message for name, message in errors.items() if name not in names]
