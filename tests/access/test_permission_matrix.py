"""The isolation and permission matrix: 3 partnerships x every role x every case
endpoint x {own case, another partnership's case, a case that does not exist}.

Expectations are written out here, independently of workflow/access/permissions.py.
Commands are sent with a stale If-Match ("999"), so an allowed command answers 412
and nothing changes: 404 = cannot see, 403 = may see but not do, 412 = allowed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.access import personal_case
from tests.access.personal_case import GROUPS
from tests.support.factories import BODIES, make_case
from tests.support.web import sign_in_as
from tests.support.world import PARTNERSHIPS, ROLES, World
from workflow.commands.registry import CASE_COMMANDS
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord

# A notifier may also withdraw a notification sent in error or twice (their own record).
INTAKE = {"record_notification", "record_partners_informed", "withdraw_notification"}
REVIEW_GROUP = {cls.trigger for cls in CASE_COMMANDS} - {"record_notification"}
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
                for cls in CASE_COMMANDS:
                    got = raw.post(
                        f"/api/v1/cases/{case_id}/{cls.path}",
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
                            f"{partnership}/{role} {cls.path} {target}: {got.status_code} != {want}"
                        )
    assert not failures, f"{len(failures)} of {checked} checks failed:\n" + "\n".join(failures)
    assert checked == 3 * len(ROLES) * 3 * (len(READS) + len(CASE_COMMANDS))


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


# --- which personal fields each role receives, from every read that returns case data ---
# (tests/access/personal_case.py puts a marker in every personal field; GROUPS names them)

ALL_ROLES = (*ROLES, "national")
PERSONAL_ROLES = {"notifier", "review_group", "reviewer"}  # case.read_personal
EXPORTERS = {"notifier", "review_group", "partnership_admin"}  # data.export
FEEDERS = {"notifier", "review_group", "action_owner", "viewer", "partnership_admin"}
CASE_TEXT = ("records", "close_reason", "recommendations")
ACTION_TEXT = ("my_action", "their_action")
EVERYTHING = (*CASE_TEXT, *ACTION_TEXT)


@dataclass(frozen=True)
class Read:
    """One read. `carries`: the marker groups in its body for a role with personal-data
    rights; `owner_gets`: of those, what the action owner receives (their own action's
    text); every other role receives none of them. `audits`: the audit records (action
    per case of `cases`) of a read that sent personal data; `always`: of any 200."""

    path: str
    carries: tuple[str, ...] = ()
    owner_gets: tuple[str, ...] = ()
    audits: tuple[str, ...] = ()
    owner_audits: tuple[str, ...] | None = None  # None: as `audits`
    cases: tuple[str, ...] = ("main",)
    always: tuple[str, ...] = ()
    roles: frozenset[str] = frozenset(ALL_ROLES)  # the others are refused (403)


PLAN = ("recommendations", *ACTION_TEXT)
PAGE_AUDITS = ("read_case", "read_timeline", "read_action_plan")
BOTH = ("main", "second")
RECS = ("recommendations",)
FIELD_READS = (
    Read("/api/v1/cases"),
    Read("/api/v1/cases/{main}", CASE_TEXT, audits=("read_case",)),
    Read("/api/v1/cases/{main}/timeline", EVERYTHING, audits=("read_timeline",)),
    Read("/api/v1/cases/{main}/next-actions"),
    Read("/api/v1/cases/{main}/actions", PLAN, ("my_action",), ("read_action_plan",)),
    Read("/api/v1/actions", ACTION_TEXT, ("my_action",), ("read_actions",)),
    Read("/api/v1/search?theme=infants", RECS, audits=("search_learning",), cases=BOTH),
    Read("/api/v1/search?q=PD-rec-one", RECS, audits=("search_learning",), cases=BOTH),
    Read("/api/v1/learning/themes/infants", RECS, audits=("read_learning",), cases=BOTH),
    Read("/api/v1/learning/summary"),
    Read("/api/v1/cases/{main}/documents", ("unredacted_document",)),
    Read("/api/v1/dashboard"),
    Read("/api/v1/reports/annual?year=2025"),
    Read("/api/v1/changes"),
    Read(
        "/api/v1/exports/cases.csv",
        ("close_reason",),
        always=("export_cases",),
        roles=frozenset(EXPORTERS),
    ),
    Read(
        "/api/v1/exports/actions.csv",
        ACTION_TEXT,
        always=("export_actions",),
        roles=frozenset(EXPORTERS),
    ),
    Read("/api/v1/exports/deadlines.csv", always=("export_deadlines",), roles=frozenset(EXPORTERS)),
    Read("{feed}", roles=frozenset(FEEDERS)),
    Read("/"),
    Read("/cases/{main}", EVERYTHING, ("my_action",), PAGE_AUDITS, ("read_action_plan",)),
    Read("/cases/{main}/fragment", EVERYTHING, ("my_action",), PAGE_AUDITS, ("read_action_plan",)),
)


def _token(world: World, role: str) -> str:
    return world.national_token if role == "national" else world.token("beta", role)


def _signed_in(raw: TestClient, database: Database, world: World, role: str) -> int:
    """Sign the browser in as the user whose token `_token` gives; the status."""
    name = "panel" if role == "national" else world.username("beta", role)
    return sign_in_as(raw, database, name).status_code


def _audit_after(database: Database, last: int) -> list[tuple[str, str | None]]:
    rows = database.read(
        lambda s: s.execute(
            select(AuditRecord.action, AuditRecord.case_id)
            .where(AuditRecord.id > last, AuditRecord.outcome == "ok")
            .order_by(AuditRecord.id)
        ).all()
    )
    return sorted((a, None if c is None else str(c)) for a, c in rows)


def _last_audit(database: Database) -> int:
    return database.read(lambda s: s.scalar(select(func.max(AuditRecord.id)))) or 0


def _expected(read: Read, role: str) -> set[str]:
    if role in PERSONAL_ROLES:
        return set(read.carries)
    return set(read.owner_gets) if role == "action_owner" else set()


def test_personal_fields_each_role_receives(
    raw: TestClient, world: World, database: Database
) -> None:
    scenario = personal_case.build(raw, world)
    ids = {"main": scenario.main, "second": scenario.second}
    failures: list[str] = []
    for role in ALL_ROLES:
        auth = {"Authorization": f"Bearer {_token(world, role)}"}
        feed = raw.post("/api/v1/feeds", json={"partnership": "beta", "label": "x"}, headers=auth)
        # the national role is no member of beta (422); the others without feed.create: 403
        assert feed.status_code == (201 if role in FEEDERS else 422 if role == "national" else 403)
        assert _signed_in(raw, database, world, role) == 303
        for read in FIELD_READS:
            if read.path == "{feed}" and role not in FEEDERS:
                continue
            path = read.path.format(**ids, feed=feed.json().get("url", ""))
            last = _last_audit(database)
            got = raw.get(path, headers={} if path.endswith(".ics") else auth)
            want = 200 if role in read.roles else 403
            if got.status_code != want:
                failures.append(f"{role} {path}: {got.status_code} != {want}")
                continue
            received = {g for g in read.carries if any(m in got.text for m in GROUPS[g])}
            if received != (_expected(read, role) if want == 200 else set()):
                failures.append(f"{role} {path}: receives {sorted(received)}")
            audits = read.owner_audits if role == "action_owner" else None
            sent = received - {"unredacted_document"}
            records = [(a, ids[c]) for a in (audits or read.audits) for c in read.cases]
            wanted = sorted(
                (records if sent and want == 200 else [])
                + ([(a, None) for a in read.always] if want == 200 else [])
            )
            if _audit_after(database, last) != wanted:
                failures.append(f"{role} {path}: audit {_audit_after(database, last)}")
        raw.cookies.clear()
    assert not failures, "\n".join(failures)


def test_withheld_fields_are_null(raw: TestClient, world: World, database: Database) -> None:
    """The JSON keeps every field; a withheld one is null, and the page says so."""
    scenario = personal_case.build(raw, world)
    for role in ALL_ROLES:
        auth = {"Authorization": f"Bearer {_token(world, role)}"}
        personal = role in PERSONAL_ROLES
        own = {scenario.mine: personal or role == "action_owner", scenario.theirs: personal}
        plan = raw.get(f"/api/v1/cases/{scenario.main}/actions", headers=auth).json()
        assert [r["text"] is not None for r in plan["recommendations"]] == [personal] * 2, role
        listed = raw.get("/api/v1/actions", headers=auth).json()["items"]
        for actions in (plan["actions"], listed):
            assert {a["id"] for a in actions} == set(own), role
            for a in actions:
                shown = own[a["id"]]
                fields = ("description", "owner", "owner_username", "status_reason")
                assert [a[f] is not None for f in fields] == [shown] * 4, (role, a)
                assert (a["status"], a["agency"]) == ("not_achieved", "health_icb")
        for a in plan["actions"]:
            notes = [u["note"] is not None for u in a["updates"]]
            assert notes == [own[a["id"]]] * 2, (role, a)
        found = raw.get("/api/v1/search?theme=infants", headers=auth).json()
        texts = [r["text"] is not None for r in found["recommendations"]]
        assert texts == [personal] * 3, role  # listed for every role, text only with rights
        learning = raw.get("/api/v1/learning/themes/infants", headers=auth).json()
        groups = learning["recurring_recommendations"]
        assert groups, role
        assert [g["text"] is not None for g in groups] == [personal] * len(groups), role
        assert _signed_in(raw, database, world, role) == 303
        page = raw.get(f"/cases/{scenario.main}").text
        assert ("Withheld: your role does not include personal data" in page) != personal, role
        raw.cookies.clear()
