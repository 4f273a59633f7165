"""The learning-theme taxonomy (config/themes.yaml): the national themes plus the
themes each partnership adds for itself; and the text helpers of learning search
(snippets, near-identical recommendations). Pure: no database.

A slug is what a tag stores; a partnership's own theme is valid only on that
partnership's cases and may not reuse a national slug (two partnerships may use
the same slug for their own themes).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflow.core.errors import InvalidFacts

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SNIPPET_CHARS = 80
T = TypeVar("T")
K = TypeVar("K")


class UnknownTheme(InvalidFacts):
    """A theme slug that is not in the taxonomy the subject or caller may use."""


class Theme(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=SLUG_PATTERN, max_length=64)
    label: str = Field(min_length=1, max_length=120)
    description: str = Field(min_length=1, max_length=500)
    partnership: str | None = Field(
        default=None, description="The partnership whose own theme this is; null: national."
    )


class ThemesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    national: list[Theme] = Field(min_length=1)
    partnerships: dict[str, list[Theme]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> ThemesFile:
        problems = _duplicates("national", self.national)
        national = {t.slug for t in self.national}
        problems += [
            f"national theme {t.slug!r} names a partnership" for t in self.national if t.partnership
        ]
        for code, own in self.partnerships.items():
            problems += _duplicates(f"partnership {code!r}", own)
            problems += [
                f"partnership {code!r}: {t.slug!r} is already a national theme"
                for t in own
                if t.slug in national
            ]
            problems += [
                f"partnership {code!r}: {t.slug!r} names partnership {t.partnership!r}"
                for t in own
                if t.partnership not in (None, code)
            ]
        if problems:
            raise ValueError("; ".join(problems))
        return self


def _duplicates(where: str, themes: Sequence[Theme]) -> list[str]:
    seen: set[str] = set()
    out = []
    for theme in themes:
        if theme.slug in seen:
            out.append(f"{where}: theme {theme.slug!r} is listed twice")
        seen.add(theme.slug)
    return out


class Taxonomy:
    """National themes plus each partnership's own. Immutable after loading."""

    def __init__(self, config: ThemesFile | None = None) -> None:
        self.national: dict[str, Theme] = {t.slug: t for t in (config.national if config else [])}
        self.own: dict[str, dict[str, Theme]] = {
            code: {t.slug: t.model_copy(update={"partnership": code}) for t in themes}
            for code, themes in (config.partnerships.items() if config else [])
        }

    @classmethod
    def load(cls, path: Path) -> Taxonomy:
        """Read and validate the file (ValueError names every problem)."""
        with path.open(encoding="utf-8") as fh:
            data: Any = yaml.safe_load(fh) or {}
        return cls(ThemesFile.model_validate(data))

    def for_partnership(self, code: str) -> dict[str, Theme]:
        """The themes a case of partnership `code` may be tagged with."""
        return {**self.national, **self.own.get(code, {})}

    def for_partnerships(self, codes: Iterable[str] | None) -> dict[str, Theme]:
        """The national themes plus the own themes of `codes` (None: of every partnership).
        A slug two partnerships both define appears once (the first partnership's)."""
        wanted = sorted(self.own) if codes is None else sorted(set(codes))
        out = dict(self.national)
        for code in wanted:
            for slug, theme in self.own.get(code, {}).items():
                out.setdefault(slug, theme)
        return out

    def check(self, slugs: Sequence[str], code: str, field: str = "themes") -> list[str]:
        """`slugs` without repeats, in order, if each is valid for partnership `code`;
        otherwise UnknownTheme naming the offending item (e.g. `themes.2`)."""
        valid = self.for_partnership(code)
        for i, slug in enumerate(slugs):
            if slug not in valid:
                raise unknown(slug, valid, f"{field}.{i}", f"partnership {code!r}")
        return list(dict.fromkeys(slugs))


def unknown(slug: str, valid: Iterable[str], field: str, where: str) -> UnknownTheme:
    listed = ", ".join(sorted(valid)) or "(none)"
    return UnknownTheme(f"unknown theme {slug!r} for {where}; valid themes: {listed}", field)


def normalise_text(text: str) -> str:
    """A recommendation's text for grouping near-identical ones: case folded,
    punctuation as spaces, whitespace collapsed."""
    return " ".join(re.sub(r"[^\w\s]", " ", text.casefold()).split())


def snippet(texts: Iterable[str], q: str, context: int = SNIPPET_CHARS) -> str | None:
    """The first place `q` occurs (ignoring case) in `texts`, with `context` characters
    either side; None when it does not occur."""
    needle = q.lower()
    for text in texts:
        at = text.lower().find(needle)
        if at >= 0:
            start, end = max(0, at - context), at + len(q) + context
            return ("..." if start else "") + text[start:end] + ("..." if end < len(text) else "")
    return None


def recurring(items: Iterable[tuple[T, K, str]]) -> list[list[tuple[T, K, str]]]:
    """(item, case, text) grouped by near-identical text, when the items come from two
    or more different cases (otherwise nothing recurs); groups spanning the most cases
    first, in order of first appearance."""
    groups: dict[str, list[tuple[T, K, str]]] = {}
    for item in items:
        groups.setdefault(normalise_text(item[2]), []).append(item)
    if len({item[1] for members in groups.values() for item in members}) < 2:
        return []
    return sorted(groups.values(), key=lambda members: -len({m[1] for m in members}))
