"""Control and bidirectional characters are refused in every text field, naming the
field; line breaks only in narrative fields; text stored before the rule is written
out neutralised in CSV, iCalendar and pages (issue 13, item 13). SQLite and
PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from tests.api.helpers import open_case
from tests.support.factories import incident
from tests.support.web import sign_in_as
from tests.support.world import World
from workflow.storage.database import Database
from workflow.storage.models import Case

SPOOF = "\u202eFDP.exe"  # shows as "exe.PDF"


def refused_field(response: Any, why: tuple[str, ...] = ("control character", "line break")) -> str:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    (error,) = response.json()["errors"]
    assert any(word in error["message"] for word in why), error
    field: str = error["field"]
    return field


@pytest.mark.parametrize("bad", [SPOOF, "ref\x7f", "ref\x85", "ref\u2066x", "ref\x00"])
def test_local_reference_refuses_control_and_bidi_characters(client: TestClient, bad: str) -> None:
    response = client.post("/api/v1/incidents", json=incident(local_reference=bad))
    assert refused_field(response) == "local_reference"
    assert (
        f"U+{ord(next(c for c in bad if not c.isalnum() and c not in '.-')):04X}"
        in (response.json()["detail"])
    )
    assert client.get("/api/v1/cases").json()["items"] == []


def test_line_breaks_only_in_narrative_fields(client: TestClient) -> None:
    for overrides, field in (
        ({"location": "Home\nAway"}, "location"),
        ({"local_reference": "REF\t1"}, "local_reference"),
        ({"agencies_involved": ["Police\r\n"]}, "agencies_involved"),
        ({"case_outline": "Outline\x85more"}, "case_outline"),  # NEL: never
        ({"children": [{"pseudonym": "Child\u200fA"}]}, "children"),
    ):
        response = client.post("/api/v1/incidents", json=incident(**overrides))
        assert refused_field(response) == field, overrides
    assert client.get("/api/v1/cases").json()["items"] == []
    outline = "First paragraph.\r\n\r\nSecond:\tindented."
    case = open_case(client, case_outline=outline)
    assert case["id"]


def test_every_kind_of_request_names_the_field(client: TestClient) -> None:
    case = open_case(client)
    path = f"/api/v1/cases/{case['id']}"
    if_match = {"If-Match": f'"{case["version"]}"'}
    adjustment = {
        "deadline": "rapid_review_sent",
        "kind": "extension",
        "effective_date": "2025-03-31",
        "reason": "Awaiting the police interview.\nChair agreed.",
        "approved_by": "Chair\u200f",
    }
    # A subscription's target is checked by the domain (workflow/notifications), which
    # says why in its own words, still naming the field.
    webhook = {"partnership": "alpha", "channel": "webhook", "target": f"https://x.org/{SPOOF}"}
    email = {"partnership": "alpha", "channel": "email", "target": f"a{SPOOF}@x.org"}
    for send, field in (
        (
            lambda: client.post(f"{path}/deadline-adjustments", json=adjustment, headers=if_match),
            "approved_by",
        ),
        (
            lambda: client.post(
                f"{path}/deadline-adjustments",
                json={**adjustment, "approved_by": "Chair", "reason": "x\x85"},
                headers=if_match,
            ),
            "reason",
        ),
        (
            lambda: client.post("/api/v1/feeds", json={"partnership": "alpha", "label": SPOOF}),
            "label",
        ),
        (lambda: client.post("/api/v1/subscriptions", json={**webhook, "role": "x\u202e"}), "role"),
        (lambda: client.put(f"{path}/themes", json={"themes": ["neglect\u202e"]}), "themes"),
        (
            lambda: client.post(
                f"{path}/documents",
                files={"file": ("r.pdf", b"%PDF-1.4\n", "application/pdf")},
                data={"kind": "final_report", "title": SPOOF, "redacted": "true"},
            ),
            "title",
        ),
        (lambda: client.get("/api/v1/search", params={"q": SPOOF}), "query.q"),
        (lambda: client.get("/api/v1/cases", params={"rulebook": "x\x85"}), "query.rulebook"),
        (lambda: client.get("/api/v1/actions", params={"theme": "a\nb"}), "query.theme"),
    ):
        assert refused_field(send()) == field
    for subscription, why in ((webhook, "non-ASCII"), (email, "one address")):
        response = client.post("/api/v1/subscriptions", json=subscription)
        assert refused_field(response, (why,)) == "target"
    assert client.get(path).json()["version"] == case["version"]


def test_text_stored_before_the_rule_is_neutralised_on_the_way_out(
    client: TestClient, raw: TestClient, database: Database, world: World
) -> None:
    case = open_case(client, local_reference="REF-1")

    def imported_before_the_rule(session: Any) -> None:
        session.execute(
            update(Case).where(Case.local_reference == "REF-1").values(local_reference=SPOOF)
        )

    database.write(imported_before_the_rule)
    csv = client.get("/api/v1/exports/cases.csv")
    assert csv.status_code == 200
    assert "\u202e" not in csv.text
    assert "\ufffdFDP.exe" in csv.text

    viewer = world.auth("alpha", "viewer")
    feed = raw.post("/api/v1/feeds", json={"partnership": "alpha", "label": "Team"}, headers=viewer)
    ics = raw.get(feed.json()["url"])
    assert ics.status_code == 200
    assert "\u202e" not in ics.text
    assert "\ufffdFDP.exe" in ics.text

    signed_in = sign_in_as(raw, database, "la.officer")
    assert signed_in.status_code == 303
    for page in (raw.get("/"), raw.get(f"/cases/{case['id']}")):
        assert page.status_code == 200
        assert "\u202e" not in page.text
        assert "\ufffdFDP.exe" in page.text
