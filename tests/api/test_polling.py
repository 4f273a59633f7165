"""Polling: ETags and 304 on every case GET and the list, the change feed."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tests.api.helpers import ACTION, command, drive, open_case
from tests.support.db_plugin import Clock
from tests.support.factories import BODIES, LCSPR_PATH, NOW, incident
from tests.support.world import ADMIN, World
from workflow.access import accounts
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord, CaseEvent

CHANGES = "/api/v1/changes"


def url(case: dict[str, Any], tail: str = "") -> str:
    return f"/api/v1/cases/{case['id']}{tail}"


def tags(client: TestClient, case: dict[str, Any]) -> dict[str, str]:
    """The current ETag of each polled resource; each must answer 304 to itself."""
    out = {}
    for name, path in (
        ("case", url(case)),
        ("timeline", url(case, "/timeline")),
        ("next", url(case, "/next-actions")),
        ("list", "/api/v1/cases"),
    ):
        first = client.get(path)
        assert first.status_code == 200, first.text
        tag = first.headers["etag"]
        again = client.get(path, headers={"If-None-Match": tag})
        assert (again.status_code, again.content, again.headers["etag"]) == (304, b"", tag)
        out[name] = tag
    return out


def reads_audited(database: Database) -> int:
    stmt = select(func.count()).select_from(AuditRecord).where(AuditRecord.action == "read_case")
    return int(database.read(lambda s: s.scalar(stmt)) or 0)


def test_a_matching_tag_answers_304_without_a_body_or_an_audit_record(
    client: TestClient, database: Database
) -> None:
    case = open_case(client)
    first = client.get(url(case))
    assert first.headers["etag"] == '"1.20260115.p"'
    assert first.headers["cache-control"] == "no-store"
    audited = reads_audited(database)
    for header in ('"1.20260115.p"', 'W/"1.20260115.p"', '"0.x", "1.20260115.p"', "*"):
        again = client.get(url(case), headers={"If-None-Match": header})
        assert again.status_code == 304, header
        assert again.headers["cache-control"] == "no-store"
    assert reads_audited(database) == audited  # a 304 sends no personal data
    assert client.get(url(case), headers={"If-None-Match": '"1"'}).status_code == 200
    assert reads_audited(database) == audited + 1
    assert tags(client, case)["timeline"] == '"1.p"'


def test_every_kind_of_change_moves_every_tag(client: TestClient, clock: Clock) -> None:
    case = open_case(client)
    seen = [tags(client, case)]
    for trigger in LCSPR_PATH[:-1]:  # every command up to publication
        case = drive(client, case, trigger)
        seen.append(tags(client, case))
    adjusted = client.post(
        url(case, "/actions"), json=ACTION, headers={"If-Match": seen[-1]["case"]}
    )  # an action-plan change, with the GET's tag as If-Match
    assert adjusted.status_code == 201, adjusted.text
    seen.append(tags(client, case))
    for name in ("case", "timeline", "next", "list"):
        values = [t[name] for t in seen]
        assert len(set(values)) == len(values), name
    other = drive(client, open_case(client), "record_notification")
    before = tags(client, other)
    assert before["list"] not in [t["list"] for t in seen]  # a new case (and a command)
    extended = client.post(
        url(other, "/deadline-adjustments"),
        json={
            "deadline": "rapid_review_sent",
            "kind": "extension",
            "effective_date": "2025-03-31",
            "reason": "Police disclosure awaited",
            "approved_by": "Chair",
        },
        headers={"If-Match": before["case"]},
    )
    assert extended.status_code == 200, extended.text
    after = tags(client, other)
    assert all(after[name] != before[name] for name in before)
    clock.now += timedelta(days=1)  # deadline statuses are relative to today
    tomorrow = tags(client, other)
    assert tomorrow["case"] == '"3.20260116.p"'
    assert tomorrow["list"] != after["list"]
    assert tomorrow["timeline"] == after["timeline"]
    stale = client.get(url(other), headers={"If-None-Match": after["case"]})
    assert stale.status_code == 200


def test_a_new_case_moves_the_list_tag_and_queries_have_their_own(client: TestClient) -> None:
    open_case(client)
    before = client.get("/api/v1/cases").headers["etag"]
    filtered = client.get("/api/v1/cases", params={"state": "rapid_review"})
    assert filtered.headers["etag"] != before
    assert filtered.headers["cache-control"] == "private, no-cache"
    open_case(client)
    assert client.get("/api/v1/cases", headers={"If-None-Match": before}).status_code == 200
    star = {"If-None-Match": "*"}  # never a 304 for a query that is not valid
    assert client.get("/api/v1/cases", params={"state": "nope"}, headers=star).status_code == 422


def test_a_role_change_moves_the_representation(
    client: TestClient, raw: TestClient, database: Database
) -> None:
    def setup(s: Any) -> str:
        at = datetime(2026, 1, 1, tzinfo=UTC)
        user = accounts.create_user(s, "switcher", "Switcher", at, by=ADMIN)
        alpha = accounts.get_partnership(s, "alpha")
        for role in ("viewer", "review_group"):
            accounts.grant_role(s, user, alpha, role, now=at, by=ADMIN)
        return accounts.create_token(s, user, "t", at, by=ADMIN).secret

    auth = {"Authorization": f"Bearer {database.write(setup)}"}
    case = open_case(client)
    personal = raw.get(url(case), headers=auth)
    assert personal.headers["etag"] == '"1.20260115.p"'
    next_tag = raw.get(url(case, "/next-actions"), headers=auth).headers["etag"]
    database.write(
        lambda s: accounts.revoke_role(
            s,
            accounts.get_user(s, "switcher"),
            accounts.get_partnership(s, "alpha"),
            "review_group",
            now=NOW,
            by=ADMIN,
        )
    )
    summary = raw.get(url(case), headers={**auth, "If-None-Match": personal.headers["etag"]})
    assert summary.status_code == 200
    assert summary.headers["etag"] == '"1.20260115.s"'
    assert summary.headers["cache-control"] == "private, no-cache"
    assert summary.json()["records"] is None
    actions = raw.get(url(case, "/next-actions"), headers={**auth, "If-None-Match": next_tag})
    assert actions.status_code == 200
    assert actions.headers["etag"] != next_tag
    assert raw.get(url(case, "/timeline"), headers=auth).headers["etag"] == '"1.s"'


def test_a_guessed_tag_never_reveals_another_partnerships_case(
    client: TestClient, raw: TestClient, world: World
) -> None:
    case = open_case(client)
    beta = world.auth("beta", "review_group")
    for tail, tag in (("", '"1.20260115.p"'), ("/timeline", '"1.p"'), ("/next-actions", "*")):
        for header in (tag, "*"):
            response = raw.get(url(case, tail), headers={**beta, "If-None-Match": header})
            assert response.status_code == 404
            assert response.headers["content-type"] == "application/problem+json"
    missing = {"id": "00000000-0000-4000-8000-000000000000"}
    assert client.get(url(missing), headers={"If-None-Match": "*"}).status_code == 404


def test_if_match_takes_the_version_or_a_get_tag(client: TestClient) -> None:
    case = open_case(client)
    assert command(client, case, "record_notification", version=1).status_code == 200
    tag = client.get(url(case)).headers["etag"]
    assert tag == '"2.20260115.p"'
    moved = client.post(
        url(case, "/rapid-review"),
        json=BODIES["complete_rapid_review"],
        headers={"If-Match": tag},
    )
    assert moved.status_code == 200, moved.text
    stale = command(client, case, "record_decision", headers={"If-Match": tag})
    assert stale.status_code == 412
    for bad in ('"x.2"', '"2.p', "W/" + tag):
        refused = command(client, case, "record_decision", headers={"If-Match": bad})
        assert refused.status_code == 428, bad


def test_the_feed_pages_in_order_without_gaps_or_duplicates(client: TestClient) -> None:
    first = drive(client, open_case(client), "record_notification", "complete_rapid_review")
    second = drive(client, open_case(client), "record_notification")
    drive(client, first, "record_decision")
    expected = [(first["id"], v) for v in (1, 2, 3)] + [(second["id"], v) for v in (1, 2)]
    expected.append((first["id"], 4))
    seen: list[tuple[str, int]] = []
    after: str | None = None
    while True:
        page = client.get(CHANGES, params={"limit": 2, **({"after": after} if after else {})})
        assert page.headers["cache-control"] == "private, no-cache"
        body = page.json()
        seen += [(i["case_id"], i["version"]) for i in body["items"]]
        assert all("payload" not in i and "actor" not in i for i in body["items"])
        after = body["next_cursor"]
        if not body["has_more"]:
            break
    assert seen == expected
    item = client.get(CHANGES).json()["items"][1]
    assert (item["event_type"], item["from_state"], item["to_state"]) == (
        "record_notification",
        "notification_due",
        "rapid_review",
    )
    assert client.get(CHANGES, params={"after": after}).json() == {
        "items": [],
        "next_cursor": after,
        "has_more": False,
    }
    drive(client, second, "complete_rapid_review")
    resumed = client.get(CHANGES, params={"after": after}).json()
    assert [(i["case_id"], i["version"]) for i in resumed["items"]] == [(second["id"], 3)]


def test_the_feed_is_scoped_starts_from_now_and_refuses_bad_cursors(
    client: TestClient, raw: TestClient, world: World
) -> None:
    open_case(client)
    beta = world.auth("beta", "review_group")
    latest = raw.get(CHANGES, params={"after": "latest"}, headers=beta).json()
    assert raw.get(CHANGES, headers=beta).json()["items"] == []  # none of alpha's
    own = raw.post("/api/v1/incidents", json=incident(), headers=world.auth("beta", "notifier"))
    drive(client, open_case(client), "record_notification")
    now = client.get(CHANGES, params={"after": "latest"}).json()
    assert now["items"] == []
    assert client.get(CHANGES, params={"after": now["next_cursor"]}).json()["items"] == []
    since = raw.get(CHANGES, params={"after": latest["next_cursor"]}, headers=beta).json()
    assert [i["case_id"] for i in since["items"]] == [own.json()["id"]]
    wrapped = [base64.urlsafe_b64encode(raw_cursor).decode() for raw_cursor in (b"ev1:-1", b"x:1")]
    for bad in ("nonsense", "!!", "ev1:3", "ev1:" + "9" * 30, *wrapped):
        refused = client.get(CHANGES, params={"after": bad})
        assert refused.status_code == 400, bad
        assert refused.headers["content-type"] == "application/problem+json"
    assert client.get(CHANGES, params={"limit": 0}).status_code == 422


def test_a_national_feed_waits_for_earlier_ids_to_commit(
    client: TestClient, raw: TestClient, world: World, database: Database, db_url: str
) -> None:
    alpha = open_case(client)
    national = {"Authorization": f"Bearer {world.national_token}"}
    start = raw.get(CHANGES, params={"after": "latest"}, headers=national).json()["next_cursor"]
    with database.sessions() as pending:  # an alpha event, not yet committed
        pending.add(
            CaseEvent(
                case_id=uuid.UUID(alpha["id"]),
                sequence=99,
                event_type="test",
                to_state="notification_due",
                occurred_at=datetime(2026, 1, 15, tzinfo=UTC),
                actor="test",
                payload={},
            )
        )
        pending.flush()  # on SQLite this holds the write lock: commit before going on
        if not db_url.startswith("postgresql"):
            pending.commit()
        beta = raw.post(
            "/api/v1/incidents", json=incident(), headers=world.auth("beta", "notifier")
        ).json()
        held = raw.get(CHANGES, params={"after": start}, headers=national).json()
        if db_url.startswith("postgresql"):  # ids committed out of order: nothing yet
            assert held["items"] == []
            assert held["next_cursor"] == start
            busy = raw.get(CHANGES, params={"after": "latest"}, headers=national)
            assert busy.status_code == 503
            own = raw.get(CHANGES, headers=world.auth("beta", "viewer")).json()["items"]
            assert [i["case_id"] for i in own] == [beta["id"]]  # one partnership: exact
            pending.commit()
    later = raw.get(CHANGES, params={"after": start}, headers=national).json()["items"]
    assert [(i["case_id"], i["version"]) for i in later] == [(alpha["id"], 99), (beta["id"], 1)]


def test_the_stream_sends_the_same_changes_and_ends(client: TestClient) -> None:
    case = drive(client, open_case(client), "record_notification")
    with client.stream("GET", f"{CHANGES}/stream", params={"max_seconds": 1}) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        body = "".join(stream.iter_text())  # bounded: the server ends it after a second
    events = [e for e in body.split("\n\n") if e.startswith("id: ")]
    assert [json.loads(e.split("data: ", 1)[1])["version"] for e in events] == [1, 2]
    first_id = events[0].split("\n")[0].removeprefix("id: ")
    resumed = client.get(
        f"{CHANGES}/stream", params={"max_seconds": 1}, headers={"Last-Event-ID": first_id}
    )
    assert resumed.text.count("event: change") == 1
    assert case["id"] in resumed.text


def test_dashboard_answers_304_until_a_case_changes(client: TestClient) -> None:
    case = open_case(client)
    first = client.get("/api/v1/dashboard")
    assert first.status_code == 200
    tag = first.headers["etag"]
    again = client.get("/api/v1/dashboard", headers={"If-None-Match": tag})
    assert again.status_code == 304
    drive(client, case, "record_notification")
    changed = client.get("/api/v1/dashboard", headers={"If-None-Match": tag})
    assert changed.status_code == 200
    assert changed.headers["etag"] != tag
