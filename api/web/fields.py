"""Form fields derived from an input model: one builder for every command's form, so a
new command gets its form with no template code of its own.

`specs(model)` reads the model's fields (type, title/description, constraints) into
`Spec`s: a date becomes a GOV.UK date input (day, month, year), a Literal radios (a
list of them checkboxes), a bool yes/no radios, a narrative field (the model's
`multiline_fields`) a textarea with a character count, a list of text or of models
rows with "Add another" and "Remove" buttons (plain submit buttons: no script).

A form's answers travel as a *tree* (`collect`: field key -> the text typed, a date's
parts, a list of rows), kept exactly as typed so a page with errors shows them again.
`to_data` turns the tree into the model's input (dates checked first, with errors in
words); the model itself then validates it, and `pydantic_errors` puts its errors in
words at the input that caused them. Labels and choices come from workflow/core/words.py.
"""

from __future__ import annotations

import re
import types
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from annotated_types import MaxLen, MinLen
from pydantic import AnyUrl, BaseModel
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails, PydanticUndefined

from workflow.core.words import field_label, word

Kind = Literal[
    "date", "radios", "yesno", "checkboxes", "text", "textarea", "number", "url", "rows", "group"
]
DATE_PARTS = ("day", "month", "year")
MAX_ROWS = 100  # no list of any model is longer; bounds what a posted form can make us build
Tree = dict[str, Any]
Errors = dict[str, str]  # input name -> message in words


@dataclass(frozen=True)
class Choice:
    value: str
    text: str


@dataclass(frozen=True)
class Spec:
    """One field of a form, as derived from the model."""

    key: str
    label: str
    hint: str | None
    kind: Kind
    required: bool
    default: Any = None  # the tree value of a fresh form
    max_length: int | None = None  # text: characters; rows: rows
    min_items: int = 0
    choices: tuple[Choice, ...] = ()
    item: Spec | None = None  # rows: one row
    members: tuple[Spec, ...] = ()  # group: the nested model's fields


# --- deriving specs from a model ---


def specs(model: type[BaseModel], only: Sequence[str] | None = None) -> tuple[Spec, ...]:
    """The form fields of `model` (or of the named fields only, in that order)."""
    multiline: frozenset[str] = getattr(model, "multiline_fields", frozenset())
    names = list(only) if only is not None else list(model.model_fields)
    return tuple(_spec(n, model.model_fields[n], n in multiline) for n in names)


def _unwrap(tp: Any) -> tuple[Any, bool]:
    """(the type without Annotated and `| None`, whether None is allowed)."""
    optional = False
    while True:
        origin = get_origin(tp)
        if origin is Annotated:
            tp = get_args(tp)[0]
        elif origin in (Union, types.UnionType):
            args = [a for a in get_args(tp) if a is not type(None)]
            optional = optional or len(args) < len(get_args(tp))
            tp = args[0] if len(args) == 1 else str
        else:
            return tp, optional


def _limits(info: FieldInfo) -> tuple[int | None, int]:
    max_len = next((m.max_length for m in info.metadata if isinstance(m, MaxLen)), None)
    min_len = next((m.min_length for m in info.metadata if isinstance(m, MinLen)), 0)
    return max_len, min_len


def _default(info: FieldInfo) -> Any:
    if info.default_factory is not None:
        return info.default_factory()  # type: ignore[call-arg]
    return None if info.default is PydanticUndefined else info.default


def _spec(key: str, info: FieldInfo, multiline: bool) -> Spec:
    tp, _ = _unwrap(info.annotation)
    max_len, min_len = _limits(info)
    base: dict[str, Any] = {
        "key": key,
        "label": info.title or field_label(key),
        "hint": info.description,
        "required": info.is_required(),
    }
    default = _default(info)
    if get_origin(tp) is list:
        item_tp, _ = _unwrap(get_args(tp)[0])
        if get_origin(item_tp) is Literal:
            return Spec(
                **base,
                kind="checkboxes",
                choices=_choices(item_tp),
                default=[str(v) for v in default or []],
                max_length=max_len,
                min_items=min_len,
            )
        item = _item_spec(item_tp, multiline, base["label"])
        rows = [_tree_of(item, v) for v in default or []]
        return Spec(
            **base, kind="rows", item=item, default=rows, max_length=max_len, min_items=min_len
        )
    kind, extra = _scalar(tp, multiline)
    if kind == "group":
        return Spec(**base, kind="group", members=extra["members"], default=None)
    return Spec(
        **base,
        kind=kind,
        max_length=max_len,
        default=_tree_of_scalar(kind, default),
        **{k: v for k, v in extra.items() if k != "members"},
    )


def _item_spec(item_tp: Any, multiline: bool, label: str) -> Spec:
    kind, extra = _scalar(item_tp, multiline)
    if kind == "group":
        return Spec("", label, None, "group", True, members=extra["members"])
    return Spec("", label, None, kind, True)


def _scalar(tp: Any, multiline: bool) -> tuple[Kind, dict[str, Any]]:
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return "group", {"members": specs(tp)}
    if get_origin(tp) is Literal:
        return "radios", {"choices": _choices(tp)}
    if tp is bool:
        return "yesno", {}
    if tp is date:
        return "date", {}
    if tp is int:
        return "number", {}
    if isinstance(tp, type) and issubclass(tp, AnyUrl):
        return "url", {}
    if tp is uuid.UUID:
        return "text", {}
    return ("textarea" if multiline else "text"), {}


def _choices(literal: Any) -> tuple[Choice, ...]:
    return tuple(Choice(str(v), word(str(v))) for v in get_args(literal))


def _tree_of_scalar(kind: Kind, value: Any) -> Any:
    """A model default as a fresh form shows it."""
    if kind == "date":
        return {p: "" for p in DATE_PARTS}
    if kind == "yesno":
        return "" if value is None else ("yes" if value else "no")
    return "" if value is None else str(value)


def _tree_of(s: Spec, value: Any) -> Any:
    if s.kind == "group":
        return {m.key: m.default for m in s.members}
    return _tree_of_scalar(s.kind, value)


def initial(fields: Sequence[Spec]) -> Tree:
    """The tree of a fresh form: the models' defaults; a list shows one empty row."""
    tree: Tree = {}
    for s in fields:
        if s.kind == "group":
            tree[s.key] = initial(s.members)
        elif s.kind == "rows" and s.item is not None:
            tree[s.key] = list(s.default) or [_blank(s.item)]
        else:
            tree[s.key] = s.default
    return tree


def _blank(item: Spec) -> Any:
    return initial(item.members) if item.kind == "group" else _tree_of_scalar(item.kind, None)


# --- a posted form into a tree, and the rows' buttons ---


def collect(fields: Sequence[Spec], form: Mapping[str, Any], prefix: str = "") -> Tree:
    """The answers of a posted form (`form`: name -> text, or list of texts for a
    repeated name), as typed. Unknown names are ignored."""
    return {s.key: _collect(s, form, prefix + s.key) for s in fields}


def _collect(s: Spec, form: Mapping[str, Any], name: str) -> Any:
    if s.kind == "date":
        return {p: _text(form.get(f"{name}-{p}")) for p in DATE_PARTS}
    if s.kind == "checkboxes":
        got = form.get(name, [])
        return [str(v) for v in (got if isinstance(got, list) else [got])][: len(s.choices)]
    if s.kind == "group":
        return collect(s.members, form, name + ".")
    if s.kind == "rows" and s.item is not None:
        row = re.compile(rf"^{re.escape(name)}\.(\d{{1,3}})(?:$|[.-])")
        found = {int(m.group(1)) for k in form if (m := row.match(k))}
        return [_collect(s.item, form, f"{name}.{i}") for i in sorted(found)[:MAX_ROWS]]
    return _text(form.get(name))


def _text(value: Any) -> str:
    if isinstance(value, list):
        value = value[0] if value else ""
    return value if isinstance(value, str) else ""


def add_row(fields: Sequence[Spec], tree: Tree, name: str) -> bool:
    """Add an empty row to the rows field `name` (a dotted path); False if none."""
    found = _find(fields, tree, name)
    if found is None or found[0].kind != "rows" or found[0].item is None:
        return False
    s, rows = found
    assert s.item is not None  # a rows field always has its item (checked above)
    if s.max_length is None or len(rows) < s.max_length:
        rows.append(_blank(s.item))
    return True


def remove_row(fields: Sequence[Spec], tree: Tree, name: str) -> bool:
    """Remove row `name` (`field.N`); False if there is no such row."""
    parent, _, index = name.rpartition(".")
    found = _find(fields, tree, parent)
    if found is None or found[0].kind != "rows" or not index.isdigit():
        return False
    rows = found[1]
    if int(index) < len(rows):
        rows.pop(int(index))
    return True


def _find(fields: Sequence[Spec], tree: Any, name: str) -> tuple[Spec, Any] | None:
    key, _, rest = name.partition(".")
    s = next((f for f in fields if f.key == key), None)
    if s is None or not isinstance(tree, dict) or key not in tree:
        return None
    value = tree[key]
    if not rest:
        return s, value
    if s.kind == "group":
        return _find(s.members, value, rest)
    index, _, deeper = rest.partition(".")
    if s.kind == "rows" and s.item is not None and index.isdigit() and deeper:
        rows = value if isinstance(value, list) else []
        i = int(index)
        if i < len(rows) and s.item.kind == "group":
            return _find(s.item.members, rows[i], deeper)
    return None


# --- a tree into the model's input ---

_MISSING = object()


@dataclass
class Converted:
    data: dict[str, Any]
    errors: Errors = field(default_factory=dict)  # found before the model saw the input
    kept: dict[str, list[int]] = field(default_factory=dict)  # rows name -> rows sent


def to_data(fields: Sequence[Spec], tree: Tree) -> Converted:
    """The model's input from the answers; an empty answer is left out (the model's
    default applies, or it says the field is required); empty rows are dropped."""
    out = Converted({})
    out.data = _group(fields, tree, "", out)
    return out


def _group(fields: Sequence[Spec], tree: Any, prefix: str, out: Converted) -> dict[str, Any]:
    data = {}
    tree = tree if isinstance(tree, dict) else {}
    for s in fields:
        value = _value(s, tree.get(s.key), prefix + s.key, out)
        if value is not _MISSING:
            data[s.key] = value
    return data


def _value(s: Spec, raw: Any, name: str, out: Converted) -> Any:
    if s.kind == "date":
        return _date(s, raw if isinstance(raw, dict) else {}, name, out)
    if s.kind == "checkboxes":
        return list(raw) if isinstance(raw, list) else []
    if s.kind == "group":
        group = _group(s.members, raw, name + ".", out)
        return group if group or s.required else _MISSING
    if s.kind == "rows" and s.item is not None:
        rows, kept = [], []
        for i, row in enumerate(raw if isinstance(raw, list) else []):
            if row == _blank(s.item):
                continue
            value = _value(s.item, row, f"{name}.{i}", out)
            if value is not _MISSING:
                rows.append(value)
                kept.append(i)
        out.kept[name] = kept
        return rows if rows or s.required else _MISSING
    text = raw if isinstance(raw, str) else ""
    if not text.strip():
        return _MISSING
    if s.kind == "yesno":
        return {"yes": True, "no": False}.get(text, text)
    return text


def _date(s: Spec, parts: Mapping[str, str], name: str, out: Converted) -> Any:
    typed = {p: (parts.get(p) or "").strip() for p in DATE_PARTS}
    if not any(typed.values()):
        return _MISSING
    label = s.label or "The date"
    absent = [p for p in DATE_PARTS if not typed[p]]
    if absent:
        out.errors[name] = f"{label} must include a {' and '.join(absent)}"
        return _MISSING
    if not all(v.isdigit() for v in typed.values()):
        out.errors[name] = f"{label} must be a real date, in numbers"
        return _MISSING
    if len(typed["year"]) != 4:
        out.errors[name] = f"{label}: the year must include 4 numbers"
        return _MISSING
    try:
        return date(int(typed["year"]), int(typed["month"]), int(typed["day"])).isoformat()
    except ValueError:
        out.errors[name] = f"{label} must be a real date"
        return _MISSING


# --- errors in words ---

_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_NAME = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]+\b")


def in_words(message: str, fields: Sequence[Spec]) -> str:
    """A rule's message with field names as their labels and ISO dates as dates."""
    labels = {s.key: s.label for s in _walk(fields)}
    text = message.removeprefix("Value error, ")
    text = _NAME.sub(
        lambda m: labels[m.group(0)].lower() if m.group(0) in labels else m.group(0), text
    )
    text = _ISO.sub(lambda m: date(*map(int, m.groups())).strftime("%-d %B %Y"), text)
    return text[:1].upper() + text[1:]


def _walk(fields: Sequence[Spec]) -> Iterator[Spec]:
    for s in fields:
        yield s
        yield from _walk(s.members)
        if s.item is not None:
            yield from _walk(s.item.members)


def named_in(message: str, fields: Sequence[Spec]) -> str | None:
    """The first field of `fields` (top level) that `message` names, if any."""
    keys = {s.key for s in fields}
    return next((w for w in _NAME.findall(message) if w in keys), None)


def pydantic_errors(
    fields: Sequence[Spec], errors: Sequence[ErrorDetails], kept: Mapping[str, list[int]]
) -> Errors:
    """The model's errors, each at the input it names (rows as the person numbered
    them), in words; the first error per input is kept."""
    out: Errors = {}
    for err in errors:
        name, s, group = _locate(fields, err["loc"], kept)
        if s is None and err["type"] == "value_error":
            key = named_in(err["msg"], group)
            s = next((f for f in group if f.key == key), None)
            name = f"{name}.{key}" if name and key else (key or name)
        out.setdefault(name or "", _message(err, s, fields))
    return out


def _locate(
    fields: Sequence[Spec], loc: Sequence[int | str], kept: Mapping[str, list[int]]
) -> tuple[str, Spec | None, Sequence[Spec]]:
    """(input name, its spec, the fields around it) of an error's location."""
    name, group, s = "", fields, None
    for part in loc:
        if isinstance(part, int):
            rows = kept.get(name, [])
            name = f"{name}.{rows[part] if part < len(rows) else part}"
            if s is not None and s.item is not None:
                group, s = s.item.members, (s.item if s.item.kind != "group" else None)
            continue
        found = next((f for f in group if f.key == part), None)
        if found is None:
            break
        name = f"{name}.{part}" if name else part
        s = found
        if found.kind == "group":
            group, s = found.members, None
    return name, s, group


def _message(err: ErrorDetails, s: Spec | None, fields: Sequence[Spec]) -> str:
    kind, ctx = err["type"], err.get("ctx") or {}
    label = s.label if s is not None and s.label else "This answer"
    what = label.lower() if not label.endswith("?") else "an answer"
    choice = s is not None and s.kind in ("radios", "yesno", "checkboxes")
    if kind in ("missing", "string_too_short") or (kind == "too_short" and choice):
        if choice:
            return "Select yes or no" if s is not None and s.kind == "yesno" else f"Select {what}"
        return f"Enter {what}"
    if kind == "string_too_long":
        return f"{label} must be {ctx.get('max_length')} characters or fewer"
    if kind == "too_short":
        return f"{label}: add at least {ctx.get('min_length')}"
    if kind == "too_long":
        return f"{label}: no more than {ctx.get('max_length')}"
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"{label} must be a whole number"
    if kind in ("greater_than_equal", "less_than_equal"):
        bound = ctx.get("ge", ctx.get("le"))
        way = "or more" if kind == "greater_than_equal" else "or less"
        if isinstance(bound, date):
            way = "on or after" if kind == "greater_than_equal" else "on or before"
            return f"{label} must be {way} {bound.strftime('%-d %B %Y')}"
        return f"{label} must be {bound} {way}"
    if kind.startswith("url"):
        return f"Enter {what} like https://example.org/report"
    if kind in ("bool_parsing", "bool_type"):
        return "Select yes or no"
    if kind in ("literal_error", "enum"):
        return f"Select {what} from the choices"  # noqa: S608 - words for people, not SQL
    if kind.startswith("date"):
        return f"{label} must be a real date"
    return in_words(str(err["msg"]), fields)
