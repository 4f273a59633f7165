"""The one character policy (workflow/core/inputs.py) and the JSON depth scan, and that
every request model applies the policy to every text field (issue 13, items 7, 13)."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import ValidationError

from api.input_limits import MAX_JSON_DEPTH, json_depth_exceeds
from api.main import create_app
from config.settings import Settings
from workflow.core.inputs import (
    BIDI_CONTROLS,
    REPLACEMENT,
    Input,
    check_text,
    neutralise,
    refused_character,
)

BIDI = [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A)]


def test_every_control_and_bidi_character_is_refused_and_nothing_else() -> None:
    for code in range(0x3000):
        ch = chr(code)
        control = unicodedata.category(ch) == "Cc"
        bidi = code in BIDI
        assert (refused_character(f"a{ch}b") is not None) == (control or bidi), hex(code)
        allowed_in_narrative = ch in "\n\r\t" or not (control or bidi)
        assert (refused_character(f"a{ch}b", multiline=True) is None) == allowed_in_narrative
    assert {chr(c) for c in BIDI} == BIDI_CONTROLS
    for fine in ("Café", "Zoë O'Neill", "\u200d", "\U0001f600", "\u00a0", "שלום"):
        assert refused_character(fine) is None, fine


def test_neutralise_replaces_what_is_refused() -> None:
    assert neutralise("\u202eFDP.exe") == REPLACEMENT + "FDP.exe"
    assert neutralise("a\x85b\x7f") == f"a{REPLACEMENT}b{REPLACEMENT}"
    assert neutralise("line\r\nnext\tend", multiline=True) == "line\r\nnext\tend"
    assert neutralise("line\nnext") == f"line{REPLACEMENT}next"
    assert neutralise("plain") == "plain"


def test_the_scan_is_iterative() -> None:
    deep: Any = "x\u202e"
    for _ in range(100_000):
        deep = [{"k": deep}]
    with pytest.raises(ValueError, match="U\\+202E"):
        check_text(deep)
    flat: Any = "ok"
    for _ in range(100_000):
        flat = [flat]
    check_text(flat)  # no RecursionError


def test_json_depth_counts_brackets_outside_strings() -> None:
    assert not json_depth_exceeds(b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH)
    assert json_depth_exceeds(b"[" * (MAX_JSON_DEPTH + 1))
    assert json_depth_exceeds(b'{"a":' * 40 + b"1" + b"}" * 40)
    inside = json.dumps({"text": "[{" * 1000 + '\\"[[['}).encode()
    assert not json_depth_exceeds(inside)
    assert not json_depth_exceeds(b'"unterminated [[[[ \\')
    assert json_depth_exceeds(b'["a\\"]", ' + b"[" * MAX_JSON_DEPTH)


def _subclasses(cls: type[Input]) -> Iterator[type[Input]]:
    for sub in cls.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _is_text(schema: dict[str, Any]) -> bool:
    """A plain string (not a date, enum, UUID, URL or pattern), or an array of them."""
    options = schema.get("anyOf", [schema])
    for option in options:
        if option.get("type") == "array":
            if _is_text(option.get("items", {})):
                return True
        elif option.get("type") == "string" and not {"format", "enum", "pattern"} & set(option):
            return True
    return False


def _text_fields() -> list[tuple[type[Input], str, bool]]:
    found = []
    for model in _subclasses(Input):
        properties = model.model_json_schema()["properties"]
        for name, schema in properties.items():
            if _is_text(schema):
                is_list = "array" in json.dumps(schema)
                found.append((model, name, is_list))
    return found


def test_every_request_body_is_an_input_model() -> None:
    spec = create_app(Settings(database_url="sqlite://")).openapi()
    bodies = {
        # a model's reference, or (the upload forms, read after authentication) its inline title
        content["schema"]["$ref"].rsplit("/", 1)[1]
        if "$ref" in content["schema"]
        else content["schema"]["title"]
        for item in spec["paths"].values()
        for operation in item.values()
        for content in operation.get("requestBody", {}).get("content", {}).values()
    }
    assert len(bodies) > 20
    assert bodies <= {model.__name__ for model in _subclasses(Input)}


# Fields whose model overrides the policy by name and leaves them to the domain, which
# refuses the same characters in its own words (tests/api/test_character_policy.py).
LEFT_TO_THE_DOMAIN = {"SubscriptionIn.target"}
TEXT_FIELDS = [f for f in _text_fields() if f"{f[0].__name__}.{f[1]}" not in LEFT_TO_THE_DOMAIN]


@pytest.mark.parametrize(
    ("model", "name", "is_list"),
    TEXT_FIELDS,
    ids=[f"{m.__name__}.{n}" for m, n, _ in TEXT_FIELDS],
)
def test_every_text_field_refuses_what_the_policy_refuses(
    model: type[Input], name: str, is_list: bool
) -> None:
    def refusal(text: str) -> str | None:
        value: Any = [text] if is_list else text
        try:
            model.model_validate({name: value})
        except ValidationError as e:
            return next((str(x["msg"]) for x in e.errors() if x["loc"] == (name,)), None)
        return None

    for bad in ("\u202eFDP.exe", "ref\x7f", "ref\x85", "nul\x00", "\u2066x"):
        message = refusal(bad)
        assert message is not None, (name, bad)
        assert "control character" in message, (name, bad)
    line_break = refusal("first line\r\nsecond\tline")
    if name in model.multiline_fields:
        assert line_break is None or "line break" not in line_break
    else:
        assert line_break is not None
        assert "line break" in line_break


def test_nested_text_is_refused_naming_where() -> None:
    from workflow.commands.intake import LogIncident

    with pytest.raises(ValidationError) as caught:
        LogIncident.model_validate({"children": [{"pseudonym": "Child\u202eA"}]})
    (error,) = [e for e in caught.value.errors() if e["loc"] == ("children",)]
    assert "U+202E" in error["msg"]
    assert "[0].pseudonym" in error["msg"]


def test_a_misspelt_multiline_field_fails_at_import() -> None:
    with pytest.raises(TypeError, match="nowhere"):

        class Misspelt(Input):
            multiline_fields = frozenset({"nowhere"})
            note: str
