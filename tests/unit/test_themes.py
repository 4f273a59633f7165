"""The learning-theme taxonomy and the pure text helpers of learning search."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from config.settings import Settings
from workflow.core.themes import (
    SLUG_PATTERN,
    Taxonomy,
    ThemesFile,
    UnknownTheme,
    normalise_text,
    recurring,
    snippet,
)

SHIPPED = Settings().themes_file
DOMAIN_THEMES = [
    "infants",
    "neglect",
    "adolescent-neglect",
    "domestic-abuse",
    "parental-mental-health",
    "parental-substance-misuse",
    "safer-sleep",
    "non-accidental-head-injury",
    "child-sexual-exploitation",
    "child-criminal-exploitation",
    "online-harm",
    "suicide-self-harm",
    "disabled-children",
    "looked-after-children",
    "minority-ethnic-children",
    "fabricated-or-induced-illness",
    "disguised-compliance",
    "professional-curiosity",
    "unseen-men",
    "voice-of-the-child",
    "information-sharing",
    "escalation",
]


def theme(slug: str) -> dict[str, str]:
    return {"slug": slug, "label": slug.title(), "description": f"About {slug}."}


def taxonomy(**partnerships: list[str]) -> Taxonomy:
    return Taxonomy(
        ThemesFile.model_validate(
            {
                "national": [theme("neglect"), theme("escalation")],
                "partnerships": {k: [theme(s) for s in v] for k, v in partnerships.items()},
            }
        )
    )


def test_the_shipped_file_has_the_national_taxonomy() -> None:
    loaded = Taxonomy.load(SHIPPED)
    assert list(loaded.national) == DOMAIN_THEMES
    for t in loaded.national.values():
        assert re.match(SLUG_PATTERN, t.slug)
        assert t.label
        assert t.description
        assert t.partnership is None
    assert loaded.national["unseen-men"].label == "Unseen men / fathers"


def test_a_partnerships_own_themes_are_valid_only_there() -> None:
    tax = taxonomy(alpha=["county-lines"], beta=["coastal-towns"])
    assert set(tax.for_partnership("alpha")) == {"neglect", "escalation", "county-lines"}
    assert tax.for_partnership("alpha")["county-lines"].partnership == "alpha"
    assert set(tax.for_partnership("gamma")) == {"neglect", "escalation"}
    assert tax.check(["county-lines", "neglect", "county-lines"], "alpha") == [
        "county-lines",
        "neglect",
    ]
    with pytest.raises(UnknownTheme) as refused:
        tax.check(["neglect", "county-lines"], "beta")
    assert refused.value.field == "themes.1"
    assert "'county-lines'" in refused.value.detail
    assert "coastal-towns, escalation, neglect" in refused.value.detail  # the valid ones


def test_the_themes_of_several_partnerships() -> None:
    tax = taxonomy(alpha=["county-lines"], beta=["coastal-towns"], gamma=["rural"])
    assert set(tax.for_partnerships(["beta"])) == {"neglect", "escalation", "coastal-towns"}
    assert set(tax.for_partnerships(None)) == {
        "neglect",
        "escalation",
        "county-lines",
        "coastal-towns",
        "rural",
    }


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"national": [theme("neglect"), theme("neglect")]}, "listed twice"),
        (
            {"national": [theme("neglect")], "partnerships": {"alpha": [theme("neglect")]}},
            "already a national theme",
        ),
        ({"national": [theme("Domestic Abuse")]}, "slug"),
        ({"national": [{**theme("neglect"), "colour": "red"}]}, "colour"),
        ({"national": []}, "national"),
        ({"national": [theme("neglect")], "extra": 1}, "extra"),
    ],
)
def test_an_inconsistent_file_is_refused(data: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        ThemesFile.model_validate(data)


def test_load_refuses_an_invalid_file(tmp_path: Path) -> None:
    path = tmp_path / "themes.yaml"
    path.write_text(yaml.safe_dump({"national": [theme("a"), theme("a")]}))
    with pytest.raises(ValidationError, match="listed twice"):
        Taxonomy.load(path)


def test_normalising_ignores_case_whitespace_and_punctuation() -> None:
    assert normalise_text("  Refresh the BRUISING-protocol. ") == "refresh the bruising protocol"
    assert normalise_text("refresh the\n bruising protocol") == "refresh the bruising protocol"
    assert normalise_text("Refresh the bruising protocols") != "refresh the bruising protocol"


def test_recurring_needs_two_different_cases() -> None:
    within_one = [
        ("r1", "case-a", "Refresh the protocol"),
        ("r2", "case-a", "refresh the protocol!"),
    ]
    assert recurring(within_one) == []
    across = [
        ("r1", "case-a", "Train staff"),
        ("r2", "case-a", "Refresh the protocol."),
        ("r3", "case-b", "refresh  the Protocol"),
    ]
    groups = recurring(across)
    assert [[item[0] for item in g] for g in groups] == [["r2", "r3"], ["r1"]]


def test_snippet_shows_the_match_in_context() -> None:
    text = "x" * 100 + " Bruising protocol not followed " + "y" * 100
    found = snippet(["no match here", text], "PROTOCOL", context=10)
    assert found == "... Bruising protocol not follo..."
    assert snippet(["short text"], "short", context=10) == "short text"
    assert snippet(["abc"], "zzz") is None
