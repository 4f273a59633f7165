"""The base of every input model: unknown fields rejected, text trimmed, the one
character policy applied to every text field, and dates kept within the span a case
can concern.

The character policy (README, "Errors, concurrency, retries"): text may not contain
a control character (Unicode category Cc: U+0000-U+001F, U+007F-U+009F, so NUL and
NEL too) nor a bidirectional control (Unicode's Bidi_Control: U+061C, U+200E, U+200F,
U+202A-U+202E, U+2066-U+2069). PostgreSQL cannot store NUL, no one types the others,
and a bidi override makes "\u202eFDP.exe" show as "exe.PDF" in a page, a calendar or
a spreadsheet. The one exception: a multi-line (narrative) field, named in its
model's `multiline_fields`, may contain line breaks (LF, CR) and tabs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

# Serious Case Reviews began in 2006 (LSCB Regulations); nothing here predates 1990, and
# no deadline, plan or review-by date is decades away. Bounding dates also bounds the
# working-day arithmetic that runs on them.
EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)
CaseDate = Annotated[date, Field(ge=EARLIEST, le=LATEST)]

LINE_BREAKS = frozenset("\n\r\t")
BIDI_CONTROLS = frozenset(
    "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
)
CONTROLS = frozenset(chr(c) for c in (*range(0x20), *range(0x7F, 0xA0)))  # category Cc
REFUSED = CONTROLS | BIDI_CONTROLS  # in single-line text
REFUSED_MULTILINE = REFUSED - LINE_BREAKS
# Output of text stored before the policy: each refused character becomes this.
REPLACEMENT = "\ufffd"


def refused_character(text: str, multiline: bool = False) -> str | None:
    """The first character of `text` the policy refuses, or None."""
    refused = REFUSED_MULTILINE if multiline else REFUSED
    return next((ch for ch in text if ch in refused), None)


def describe_refusal(ch: str) -> str:
    """Why `ch` is refused, naming its code point (the message of a 422)."""
    point = f"U+{ord(ch):04X}"
    if ch in LINE_BREAKS:
        return f"a single-line text may not contain a line break or tab ({point})"
    if ch in BIDI_CONTROLS:
        return f"text may not contain a bidirectional control character ({point})"
    return f"text may not contain control characters ({point})"


def neutralise(text: str, multiline: bool = False) -> str:
    """`text` with every refused character replaced by U+FFFD: for writing out text
    stored before the policy (CSV, iCalendar, pages), visibly and without effect."""
    refused = REFUSED_MULTILINE if multiline else REFUSED
    if not any(ch in refused for ch in text):
        return text
    return "".join(REPLACEMENT if ch in refused else ch for ch in text)


# Where a string sits in a value: (parent, key), None for the value itself. Linked,
# so that walking a deep value costs memory linear in its size; a path is spelt out
# only for the 422 that names it.
_Where = tuple["_Where | None", str | int] | None


def _spelt(where: _Where) -> str:
    parts: list[str] = []
    while where is not None:
        where, key = where
        parts.append(f"[{key}]" if isinstance(key, int) else f".{key}")
    return "".join(reversed(parts)).removeprefix(".")


def _strings(value: Any) -> Iterator[tuple[_Where, str]]:
    """(where, text) of every string in `value` (dict keys included), depth first.

    Iterative on purpose: the input is whatever a client sent, and a recursive walk
    of 500 nested arrays would overflow the interpreter's stack (a 500)."""
    stack: list[tuple[_Where, Any]] = [(None, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            yield where, item
        elif isinstance(item, dict):
            for key, child in reversed(list(item.items())):
                sub: _Where = (where, str(key))
                if isinstance(key, str):
                    stack.append((sub, key))
                stack.append((sub, child))
        elif isinstance(item, list | tuple):
            stack.extend(((where, i), child) for i, child in reversed(list(enumerate(item))))


def check_text(value: Any, multiline: bool = False) -> None:
    """Raise ValueError (naming the position within the value, if nested) when any
    text in `value` (dict keys included) breaks the character policy."""
    for where, text in _strings(value):
        ch = refused_character(text, multiline)
        if ch is not None:
            raise ValueError(describe_refusal(ch) + (f" (at {_spelt(where)})" if where else ""))


class Input(BaseModel):
    """Every request model. Subclasses name their narrative fields (the only ones that
    may hold line breaks) in `multiline_fields`; a misspelt name fails at import."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)
    multiline_fields: ClassVar[frozenset[str]] = frozenset()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        unknown = cls.multiline_fields - set(cls.model_fields)
        if unknown:
            raise TypeError(f"{cls.__name__}.multiline_fields names no field: {sorted(unknown)}")

    @field_validator("*", mode="before")
    @classmethod
    def _character_policy(cls, value: Any, info: ValidationInfo) -> Any:
        # Per field, before trimming, so the 422 names the field and a NEL or a line
        # break at either end is refused rather than silently stripped.
        check_text(value, multiline=info.field_name in cls.multiline_fields)
        return value


def is_one_email_address(text: str) -> bool:
    """One plausible address (local@domain): what SMTP's RCPT TO and a header can carry
    safely; no list separators, spaces, angle brackets, line breaks, nor any character
    the character policy refuses (a bidi override would disguise the address)."""
    local, at, domain = text.partition("@")
    return (
        bool(local and at and domain)
        and "@" not in domain
        and len(text) <= 320
        and not any(c in text for c in ' ,;<>\r\n\t"()[]\\')
        and refused_character(text) is None
    )
