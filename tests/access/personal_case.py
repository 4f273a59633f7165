"""Cases of partnership beta whose every personal field holds a marker string, for
the field matrix (test_permission_matrix.py): which role receives which of them.

`main`: closed after its action plan (close reason), stage records with a child and
an outline, two recommendations, an action assigned to `beta-action_owner` and one
assigned to someone else, each with a progress note and a not-achieved reason, an
unredacted and a redacted document. `second`: a final report whose recommendation
repeats `main`'s first one (so the theme's learning summary has a recurring group),
with deadlines still pending (so the calendar feed has events). The reviewer is
commissioned for both; the national role (held in alpha) reaches them across
partnerships. Built through the HTTP API, as each role's member would.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import ACTION
from tests.support.factories import BODIES, LCSPR_PATH, incident
from tests.support.world import World
from workflow.commands.registry import PATH_OF_TRIGGER

THEME = "infants"
GROUPS: dict[str, tuple[str, ...]] = {
    "records": ("PD-child", "PD-outline"),
    "close_reason": ("PD-close",),
    "recommendations": ("PD-rec-one", "PD-rec-two"),
    "my_action": ("PD-desc-mine", "PD-owner-mine", "PD-note-mine", "PD-reason-mine"),
    "their_action": (
        "PD-desc-theirs",
        "PD-owner-theirs",
        "PD-user-theirs",
        "PD-note-theirs",
        "PD-reason-theirs",
    ),
    "unredacted_document": ("PD-unredacted-doc",),
}
OWNER = "beta-action_owner"
NOTIFIER_STEPS = {"record_notification"}
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@dataclass(frozen=True)
class Scenario:
    main: str  # case ids
    second: str
    mine: str  # action ids of main
    theirs: str


class _Driver:
    def __init__(self, raw: TestClient, world: World) -> None:
        self.raw, self.world = raw, world
        self.version: dict[str, int] = {}

    def auth(self, role: str) -> dict[str, str]:
        return self.world.auth("beta", role)

    def post(self, role: str, case: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        headers = {**self.auth(role), "If-Match": f'"{self.version[case]}"'}
        got = self.raw.post(f"/api/v1/cases/{case}/{path}", json=body, headers=headers)
        assert got.status_code in (200, 201), f"{path}: {got.text}"
        out: dict[str, Any] = got.json()
        self.version[case] = out["version"]
        return out

    def open(self, **steps: dict[str, Any]) -> str:
        """A case of beta, driven along the LCSPR path up to the last trigger named."""
        body = incident(
            children=[{"pseudonym": "PD-child", "age_years": 0, "sex": "female"}],
            case_outline="PD-outline: non-mobile infant presented with bruising.",
            partnership="beta",
        )
        got = self.raw.post("/api/v1/incidents", json=body, headers=self.auth("notifier"))
        assert got.status_code == 201, got.text
        case: str = got.json()["id"]
        self.version[case] = got.json()["version"]
        last = list(steps)[-1]
        for trigger in LCSPR_PATH[: LCSPR_PATH.index(last) + 1]:
            role = "notifier" if trigger in NOTIFIER_STEPS else "review_group"
            self.post(
                role, case, PATH_OF_TRIGGER[trigger], {**BODIES[trigger], **steps.get(trigger, {})}
            )
        return case

    def tag_recommendations(self, case: str) -> None:
        plan = self.raw.get(f"/api/v1/cases/{case}/actions", headers=self.auth("review_group"))
        for rec in plan.json()["recommendations"]:
            url = f"/api/v1/cases/{case}/recommendations/{rec['id']}/themes"
            tagged = self.raw.put(url, json={"themes": [THEME]}, headers=self.auth("review_group"))
            assert tagged.status_code == 200, tagged.text

    def action(self, case: str, number: int, suffix: str, username: str) -> str:
        added = self.post(
            "review_group",
            case,
            "actions",
            {
                **ACTION,
                "recommendation_number": number,
                "description": f"PD-desc-{suffix}",
                "owner": f"PD-owner-{suffix}",
                "owner_username": username,
            },
        )
        action_id: str = added["actions"][-1]["id"]
        reporter = "action_owner" if username == OWNER else "review_group"
        note = {"status": "in_progress", "note": f"PD-note-{suffix}"}
        self.post(reporter, case, f"actions/{action_id}/progress", note)
        reason = {"reason": f"PD-reason-{suffix}"}
        self.post("review_group", case, f"actions/{action_id}/not-achieved", reason)
        return action_id

    def upload(self, case: str, title: str, redacted: bool) -> None:
        got = self.raw.post(
            f"/api/v1/cases/{case}/documents",
            files={"file": ("report.pdf", PDF, "application/pdf")},
            data={"kind": "final_report", "title": title, "redacted": str(redacted).lower()},
            headers=self.auth("review_group"),
        )
        assert got.status_code == 201, got.text


def build(raw: TestClient, world: World) -> Scenario:
    drive = _Driver(raw, world)
    report = {"recommendations": ["PD-rec-one: refresh the protocol", "PD-rec-two: train GPs"]}
    main = drive.open(
        commission_reviewer={"reviewer_username": "beta-reviewer"},
        receive_final_report=report,
        publish_report={},
    )
    drive.tag_recommendations(main)
    mine = drive.action(main, 1, "mine", OWNER)
    theirs = drive.action(main, 2, "theirs", "PD-user-theirs")
    close = {**BODIES["close_case"], "reason": "PD-close"}
    drive.post("review_group", main, PATH_OF_TRIGGER["close_case"], close)
    drive.upload(main, "PD-unredacted-doc", redacted=False)
    drive.upload(main, "Redacted summary", redacted=True)
    second = drive.open(
        commission_reviewer={"reviewer_username": "beta-reviewer"},
        receive_final_report={"recommendations": ["PD-rec-one: refresh the protocol"]},
    )
    drive.tag_recommendations(second)
    return Scenario(main, second, mine, theirs)
