"""A 403 says in words what the caller's roles do not allow, never the permission enum's
internal form (issue 13, item 14): one table, permissions.WORDS, names each permission."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import drive, open_case
from tests.support.factories import BODIES
from tests.support.world import World
from workflow.access.permissions import INTAKE, REVIEW_GROUP_COMMANDS, WORDS, Perm, command
from workflow.core.rulebook import RulebookRegistry

ADJUSTMENT = {
    "deadline": "rapid_review_sent",
    "kind": "extension",
    "effective_date": "2025-03-28",
    "reason": "Police disclosure awaited",
    "approved_by": "Chair of the sub-group",
}


def test_a_403_names_the_permission_in_words(
    client: TestClient, raw: TestClient, world: World
) -> None:
    case = drive(client, open_case(client), "record_notification")
    refusals = {
        "deadline": raw.post(
            f"/api/v1/cases/{case['id']}/deadline-adjustments",
            json=ADJUSTMENT,
            headers={**world.auth("alpha", "notifier"), "If-Match": '"2"'},
        ),
        "command": raw.post(
            f"/api/v1/cases/{case['id']}/rapid-review",
            json=BODIES["complete_rapid_review"],
            headers={**world.auth("alpha", "viewer"), "If-Match": '"2"'},
        ),
        "audit": raw.get("/api/v1/audit/verification", headers=world.auth("alpha", "viewer")),
        "export": raw.get("/api/v1/exports/cases.csv", headers=world.auth("alpha", "viewer")),
    }
    details = {name: r.json()["detail"] for name, r in refusals.items()}
    assert {name: r.status_code for name, r in refusals.items()} == dict.fromkeys(refusals, 403)
    assert details["deadline"] == "your roles do not allow adjusting deadlines on this case"
    assert details["export"] == "your roles do not allow exporting data"
    for detail in details.values():
        assert "Perm." not in detail
        assert "<" not in detail
        assert "." not in detail.replace("e.g.", "")  # no "deadline.adjust" either


def test_every_permission_and_command_has_its_words(rulebooks: RulebookRegistry) -> None:
    named = {p.value for p in Perm} | {command(t) for t in (*INTAKE, *REVIEW_GROUP_COMMANDS)}
    triggers = {command(t.trigger) for rb in rulebooks.all() for t in rb.transitions}
    assert named | triggers <= set(WORDS)
    assert all(w and w == w.lower() and "_" not in w and "." not in w for w in WORDS.values())
