"""A webhook target is parsed, not prefix-checked, at creation: each malformed URL is
a 422 problem naming `target` and saying why; well-formed ones are accepted."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.support.world import World
from workflow.notifications.targets import InvalidTarget, check_webhook_target

SUBS = "/api/v1/subscriptions"
TOO_LONG = "https://example.org/" + "a" * 1981  # 2001 characters

# (target, a word of the reason); the first three are the reported ones.
MALFORMED = [
    ("http://[::1", "closing ']'"),
    ("http://exa mple.org/", "whitespace"),
    ("http://127.0.0.1:8107\\@example.org/", "'\\\\'"),
    ("http://user:pass@example.org/hook", "user information"),
    ("http://@example.org/hook", "user information"),
    ("ftp://example.org/hook", "http:// or https://"),
    ("javascript:alert(1)//", "http:// or https://"),
    ("https:example.org/hook", "http:// or https://"),
    ("http:///hook", "must name a host"),
    ("http://:8443/hook", "must name a host"),
    ("http://example.org:0/", "1 to 65535"),
    ("http://example.org:65536/", "1 to 65535"),
    ("http://example.org:8o/", "1 to 65535"),
    ("http://example.org/a\tb", "whitespace"),
    ("http://example.org/\x01", "control"),
    ("http://example.org/\x7f", "control"),
    ("http://example.org/a\x85b", "whitespace"),  # NEL
    ("http://example.org/\u202eexe", "non-ASCII"),
    ("http://exa_mple.org/", "valid name"),
    ("http://-example.org/", "valid name"),
    ("http://example..org/", "valid name"),
    ("http://256.1.1.1/", "IPv4"),
    ("http://127.1/", "IPv4"),
    ("http://[::g]/", "not an IPv6 address"),
    ("http://[fe80::1%25eth0]/", "zone id"),
    ("http://::1/", "[brackets]"),
    ("http://[::1]x/", ":port"),
    ("http://example.org/%zz", "%XX"),
    ("http://example.org/hook#frag", "fragment"),
    (TOO_LONG, "2000"),
]
WELL_FORMED = [
    "https://example.org/hook",
    "http://example.org",
    "HTTPS://Example.ORG./hook?a=1&b=%20x",
    "https://example.org:8443/h/o/o/k",
    "http://192.0.2.10:65535/",
    "http://[2001:db8::1]:8080/hook",
    "https://xn--bcher-kva.example/",
    "https://" + "a" * 63 + ".example/",
]


@pytest.mark.parametrize(("target", "why"), MALFORMED)
def test_malformed_targets_are_refused_with_a_reason_that_omits_the_url(
    target: str, why: str
) -> None:
    with pytest.raises(InvalidTarget) as refused:
        check_webhook_target(target)
    assert why in refused.value.reason
    assert "example" not in refused.value.reason  # the rule, never the URL


@pytest.mark.parametrize("target", WELL_FORMED)
def test_well_formed_targets_are_accepted(target: str) -> None:
    check_webhook_target(target)  # raises if refused


def test_creation_refuses_each_malformed_target_with_a_422_naming_target(
    raw: TestClient, world: World
) -> None:
    admin = world.auth("alpha", "partnership_admin")
    for target, why in MALFORMED:
        body = {"partnership": "alpha", "channel": "webhook", "target": target}
        response = raw.post(SUBS, json=body, headers=admin)
        assert response.status_code == 422, (target, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        errors = response.json()["errors"]
        assert [e["field"] for e in errors] == ["target"], (target, errors)
        expected = "at most 2000 characters" if target == TOO_LONG else why
        assert expected in errors[0]["message"], (target, errors)
    assert raw.get(SUBS, headers=admin).json()["items"] == []
    for target in WELL_FORMED:
        body = {"partnership": "alpha", "channel": "webhook", "target": target}
        assert raw.post(SUBS, json=body, headers=admin).status_code == 201, target


def test_an_email_target_with_a_control_character_names_target(
    raw: TestClient, world: World
) -> None:
    admin = world.auth("alpha", "partnership_admin")
    body = {"partnership": "alpha", "channel": "email", "target": "a\x01@example.org"}
    response = raw.post(SUBS, json=body, headers=admin)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["target"]
    # control characters in the other fields are still refused (the base model's rule)
    body = {"partnership": "al\x01pha", "channel": "email", "target": "a@example.org"}
    assert raw.post(SUBS, json=body, headers=admin).status_code == 422
