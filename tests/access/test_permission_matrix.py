"""The isolation and permission matrix: 3 partnerships x every role x every case
endpoint x {own case, another partnership's case, a case that does not exist}.

Expectations are written out here, independently of workflow/access/permissions.py.
Commands are sent with a stale If-Match ("999"), so an allowed command answers 412
and nothing changes: 404 = cannot see, 403 = may see but not do, 412 = allowed.
"""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from api.routes.commands import COMMAND_ROUTES
from tests.support.factories import BODIES, make_case
from tests.support.world import PARTNERSHIPS, ROLES, World
from workflow.database import Database
from workflow.rulebook import RulebookRegistry

INTAKE = {"record_notification", "record_partners_informed"}
REVIEW_GROUP = {cls.trigger for _, cls, _ in COMMAND_ROUTES} - {"record_notification"}
ALLOWED_COMMANDS: dict[str, set[str]] = {
    "notifier": INTAKE,
    "review_group": REVIEW_GROUP,
    "reviewer": set(),  # only on cases they are assigned to (test_reviewer_assignment)
    "action_owner": set(),
    "viewer": set(),
    "partnership_admin": set(),
}
SEES_OWN_CASES = {"notifier", "review_group", "action_owner", "viewer", "partnership_admin"}
SEES_PERSONAL_DATA = {"notifier", "review_group"}
READS = ("", "/timeline", "/next-actions")


@pytest.fixture
def cases(database: Database, rulebooks: RulebookRegistry, world: World) -> dict[str, uuid.UUID]:
    return {
        p: make_case(database, rulebooks, world.principals[(p, "notifier")]) for p in PARTNERSHIPS
    }


def test_matrix(raw: TestClient, world: World, cases: dict[str, uuid.UUID]) -> None:
    failures: list[str] = []
    checked = 0
    for partnership in PARTNERSHIPS:
        other = PARTNERSHIPS[(PARTNERSHIPS.index(partnership) + 1) % 3]
        targets = {"own": cases[partnership], "other": cases[other], "missing": uuid.uuid4()}
        for role in ROLES:
            headers = world.auth(partnership, role)
            for target, case_id in targets.items():
                visible = target == "own" and role in SEES_OWN_CASES
                for suffix in READS:
                    got = raw.get(f"/api/v1/cases/{case_id}{suffix}", headers=headers)
                    want = 200 if visible else 404
                    checked += 1
                    if got.status_code != want:
                        failures.append(
                            f"{partnership}/{role} GET {target}{suffix}: "
                            f"{got.status_code} != {want}"
                        )
                    if got.status_code == 200 and suffix == "":
                        personal = got.json()["records"] is not None
                        if personal != (role in SEES_PERSONAL_DATA):
                            failures.append(f"{partnership}/{role}: personal data {personal}")
                for segment, cls, _ in COMMAND_ROUTES:
                    got = raw.post(
                        f"/api/v1/cases/{case_id}/{segment}",
                        json=BODIES[cls.trigger],
                        headers={**headers, "If-Match": '"999"'},
                    )
                    allowed = cls.trigger in ALLOWED_COMMANDS[role]
                    want = (
                        404
                        if not visible and not (target == "own" and allowed)
                        else (412 if allowed else 403)
                    )
                    checked += 1
                    if got.status_code != want:
                        failures.append(
                            f"{partnership}/{role} {segment} {target}: {got.status_code} != {want}"
                        )
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)
    assert checked == 3 * len(ROLES) * 3 * (len(READS) + len(COMMAND_ROUTES))


def test_lists_show_only_own_partnership(
    raw: TestClient, world: World, cases: dict[str, uuid.UUID]
) -> None:
    for partnership in PARTNERSHIPS:
        for role in ROLES:
            items = raw.get("/api/v1/cases", headers=world.auth(partnership, role)).json()
            ids = {i["id"] for i in items["items"]}
            want = {str(cases[partnership])} if role in SEES_OWN_CASES else set()
            assert ids == want, (partnership, role)
    national = raw.get("/api/v1/cases", headers={"Authorization": f"Bearer {world.national_token}"})
    assert {i["id"] for i in national.json()["items"]} == {str(c) for c in cases.values()}


def test_only_notifiers_log_incidents_in_their_partnership(raw: TestClient, world: World) -> None:
    body = {**BODIES_INCIDENT}
    for partnership in PARTNERSHIPS:
        for role in ROLES:
            got = raw.post("/api/v1/incidents", json=body, headers=world.auth(partnership, role))
            assert got.status_code == (201 if role == "notifier" else 403), (partnership, role)
        foreign = raw.post(
            "/api/v1/incidents",
            json={**body, "partnership": "zeta"},
            headers=world.auth(partnership, "notifier"),
        )
        assert foreign.status_code == 422
        assert foreign.json()["errors"][0]["field"] == "partnership"


def test_national_reads_everything_without_personal_data(
    raw: TestClient, world: World, cases: dict[str, uuid.UUID]
) -> None:
    headers = {"Authorization": f"Bearer {world.national_token}"}
    for case_id in cases.values():
        got = raw.get(f"/api/v1/cases/{case_id}", headers=headers)
        assert got.status_code == 200
        assert got.json()["records"] is None
        assert got.json()["allowed_actions"] == []
        events = raw.get(f"/api/v1/cases/{case_id}/timeline", headers=headers).json()
        assert all(e["payload"] is None for e in events["items"])
        refused = raw.post(
            f"/api/v1/cases/{case_id}/notification",
            json=BODIES["record_notification"],
            headers={**headers, "If-Match": '"1"'},
        )
        assert refused.status_code == 403


BODIES_INCIDENT = __import__("tests.support.factories", fromlist=["incident"]).incident()
