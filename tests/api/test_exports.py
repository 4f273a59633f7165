"""Data out over HTTP (SQLite and PostgreSQL): CSV exports (scoped, streamed, safe
against formula injection, personal fields only where allowed) and the calendar
feed (token shown once, stored hashed, revocable; parsed back with icalendar)."""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from icalendar import Calendar
from sqlalchemy import select

from tests.api.helpers import ACTION, drive, open_case
from tests.api.test_dashboard import TODAY, plus_months
from tests.support.factories import LCSPR_PATH, NOW, make_case
from tests.support.world import ADMIN, World
from workflow.access import accounts
from workflow.audit import chain
from workflow.core.rulebook import RulebookRegistry
from workflow.reads import exports
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord, Case, CaseDeadline, FeedToken, Partnership

LINK = '=HYPERLINK("http://evil.example","x")'
NOT_NOTIFIABLE = {"nature": "other", "abuse_or_neglect": "not_suspected", "child_age_years": 5}


@pytest.fixture
def ids(
    client: TestClient, database: Database, rulebooks: RulebookRegistry, world: World
) -> dict[str, str]:
    """Alpha: a published case referenced like a formula with an action; a closed case
    whose reference and close reason start with + and =; an overdue one; one due soon.
    Beta: a case of its own."""
    published = drive(client, open_case(client, local_reference=LINK), *LCSPR_PATH[:9])
    plan = client.get(f"/api/v1/cases/{published['id']}/actions").json()
    action = {**ACTION, "description": "-2+3 re-issue", "owner": "@lead", "agency": "police"}
    added = client.post(
        f"/api/v1/cases/{published['id']}/actions",
        json=action,
        headers={"If-Match": f'"{plan["version"]}"'},
    )
    assert added.status_code == 201, added.text
    closed = open_case(client, local_reference="+44 closed", criteria=NOT_NOTIFIABLE)
    closed = drive(client, closed, ("close_case", {"reason": "=1+1 not notifiable"}))
    late = open_case(client, aware_date="2025-12-01", incident_date="2025-12-01")
    soon = open_case(client, aware_date="2026-01-14", incident_date="2026-01-14")
    beta = world.principals[("beta", "notifier")]
    other = make_case(database, rulebooks, beta, "notification_due", local_reference="BETA")
    return {
        "published": published["id"],
        "closed": closed["id"],
        "late": late["id"],
        "soon": soon["id"],
        "beta": str(other),
    }


def rows(response: Any) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"].startswith("attachment; filename=")
    assert response.headers["cache-control"] == "no-store"
    return list(csv.DictReader(io.StringIO(response.text)))


def test_cases_csv_is_scoped_safe_and_withholds_personal_fields(
    client: TestClient, raw: TestClient, ids: dict[str, str], database: Database, world: World
) -> None:
    mine = {r["case_id"]: r for r in rows(client.get("/api/v1/exports/cases.csv"))}
    assert set(mine) == {ids[k] for k in ("published", "closed", "late", "soon")}
    assert mine[ids["published"]]["local_reference"] == "'" + LINK
    assert mine[ids["published"]]["stage"] == "action_plan"
    assert mine[ids["published"]]["published_date"] == "2025-08-20"
    assert mine[ids["closed"]]["local_reference"] == "'+44 closed"
    assert mine[ids["closed"]]["close_reason"] == "'=1+1 not notifiable"
    assert mine[ids["late"]]["local_reference"] == ""
    assert all(r["partnership"] == "alpha" for r in mine.values())
    admin = rows(
        raw.get("/api/v1/exports/cases.csv", headers=world.auth("alpha", "partnership_admin"))
    )
    assert {r["case_id"]: r["local_reference"] for r in admin} == {
        k: v["local_reference"] for k, v in mine.items()
    }
    assert all(r["close_reason"] == "" for r in admin)  # no personal data for admins
    beta = rows(
        raw.get("/api/v1/exports/cases.csv", headers=world.auth("beta", "partnership_admin"))
    )
    assert [r["case_id"] for r in beta] == [ids["beta"]]
    for headers in (
        world.auth("alpha", "viewer"),
        {"Authorization": f"Bearer {world.national_token}"},
    ):
        refused = raw.get("/api/v1/exports/cases.csv", headers=headers)
        assert refused.status_code == 403
        assert refused.headers["content-type"] == "application/problem+json"
    audit = database.read(
        lambda s: list(
            s.execute(
                select(AuditRecord.chain, AuditRecord.actor, AuditRecord.detail).where(
                    AuditRecord.action == "export_cases"
                )
            )
        )
    )
    assert sorted((c, a, d["personal_fields"]) for c, a, d in audit) == [
        ("alpha", "alpha-partnership_admin", False),
        ("alpha", "la.officer", True),
        ("beta", "beta-partnership_admin", False),
    ]


def test_exports_stream_page_by_page(
    client: TestClient, ids: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    whole = {kind: client.get(f"/api/v1/exports/{kind}.csv").text for kind in exports.EXPORTS}
    monkeypatch.setattr(exports, "PAGE_SIZE", 1)
    for kind, text in whole.items():
        assert client.get(f"/api/v1/exports/{kind}.csv").text == text
    assert len(whole["deadlines"].splitlines()) > 5


def test_deadlines_and_actions_csv(
    client: TestClient, raw: TestClient, ids: dict[str, str], database: Database, world: World
) -> None:
    stored = database.read(
        lambda s: list(
            s.execute(
                select(
                    CaseDeadline.case_id,
                    CaseDeadline.name,
                    CaseDeadline.state,
                    CaseDeadline.due_date,
                )
                .join(Case)
                .join(Partnership)
                .where(Partnership.code == "alpha", CaseDeadline.state != "not_applicable")
            )
        )
    )
    expected = {
        (
            str(c),
            n,
            "overdue" if st == "pending" and due < TODAY else st,
            due.isoformat() if due else "",
        )
        for c, n, st, due in stored
    }
    got = rows(client.get("/api/v1/exports/deadlines.csv"))
    assert {(r["case_id"], r["deadline"], r["state"], r["due_date"]) for r in got} == expected
    assert ("panel_notification", "overdue") in {
        (r["deadline"], r["state"]) for r in got if r["case_id"] == ids["late"]
    }
    (action,) = rows(client.get("/api/v1/exports/actions.csv"))
    assert (action["case_id"], action["agency"], action["status"]) == (
        ids["published"],
        "police",
        "not_started",
    )
    assert (action["description"], action["owner"], action["overdue"]) == (
        "'-2+3 re-issue",
        "'@lead",
        "true",  # due 31 Oct 2025
    )
    assert action["local_reference"] == "'" + LINK
    (admin,) = rows(
        raw.get("/api/v1/exports/actions.csv", headers=world.auth("alpha", "partnership_admin"))
    )
    assert (admin["description"], admin["owner"], admin["agency"]) == ("", "", "police")


def feed_events(body: bytes) -> dict[str, tuple[date, str]]:
    calendar = Calendar.from_ical(body)
    return {
        str(e["UID"]): (e.decoded("DTSTART"), str(e["SUMMARY"])) for e in calendar.walk("VEVENT")
    }


def test_calendar_feed(
    raw: TestClient,
    caplog: pytest.LogCaptureFixture,
    ids: dict[str, str],
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
) -> None:
    viewer = world.auth("alpha", "viewer")
    created = raw.post(
        "/api/v1/feeds", json={"partnership": "alpha", "label": "Team"}, headers=viewer
    )
    assert created.status_code == 201, created.text
    feed = created.json()
    token = feed["token"]
    assert feed["url"] == f"/api/v1/feeds/{token}.ics"
    stored = database.read(lambda s: s.get(FeedToken, uuid.UUID(feed["id"])))
    assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest()
    listed = raw.get("/api/v1/feeds", headers=viewer).json()["items"]
    assert [(f["id"], f["partnership"], f["label"], f["revoked_at"]) for f in listed] == [
        (feed["id"], "alpha", "Team", None)
    ]
    assert token not in str(listed)

    pending = database.read(
        lambda s: list(
            s.execute(
                select(CaseDeadline, Case)
                .join(Case)
                .join(Partnership)
                .where(Partnership.code == "alpha", CaseDeadline.state == "pending")
            )
        )
    )
    horizon = plus_months(TODAY, 12)
    expected = {}
    for d, c in pending:
        if d.due_date <= horizon:
            rulebook = rulebooks.get(c.rulebook_id, c.rulebook_version)
            title = next(r.title for r in rulebook.deadlines if r.name == d.name)
            label = c.local_reference or f"case {str(c.id)[:8]}"
            expected[f"{c.id}-{d.name}@casereview"] = (d.due_date, f"{title} - {label}")
    with caplog.at_level(logging.INFO, logger="casereview.access"):
        response = raw.get(feed["url"])
    assert response.status_code == 200
    logged = [r for r in caplog.records if r.name == "casereview.access"]
    assert [r.fields["path"] for r in logged] == ["/api/v1/feeds/(token).ics"]  # type: ignore[attr-defined]
    assert token not in caplog.text
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    assert feed_events(response.content) == expected
    assert {ids["late"], ids["soon"]} <= {uid[:36] for uid in expected}
    assert ids["beta"] not in response.text
    assert b"DTSTART;VALUE=DATE:" in response.content
    assert b"Child A" not in response.content
    assert b"Anytown" not in response.content
    assert feed_events(raw.get(feed["url"]).content) == expected  # UIDs are stable

    other = raw.post(
        f"/api/v1/feeds/{feed['id']}/revocation", headers=world.auth("alpha", "notifier")
    )
    assert other.status_code == 404
    revoked = raw.post(f"/api/v1/feeds/{feed['id']}/revocation", headers=viewer)
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    for url in (feed["url"], "/api/v1/feeds/crf_unknown.ics"):
        gone = raw.get(url)
        assert gone.status_code == 404
        assert gone.headers["content-type"] == "application/problem+json"
        assert token not in gone.text
    again = raw.post(f"/api/v1/feeds/{feed['id']}/revocation", headers=viewer)
    assert again.json()["revoked_at"] == revoked.json()["revoked_at"]
    assert all(report.ok for report in database.read(chain.verify_all))  # audited


def test_feed_creation_is_limited_and_follows_its_owner(
    raw: TestClient, database: Database, world: World
) -> None:
    viewer = world.auth("alpha", "viewer")
    for body, headers, status in (
        ({"partnership": "beta", "label": "x"}, viewer, 422),
        ({"partnership": "alpha", "label": ""}, viewer, 422),
        ({"partnership": "alpha", "label": "a\x00b"}, viewer, 422),
        ({"partnership": "alpha", "label": "x"}, world.auth("alpha", "reviewer"), 403),
        (
            {"partnership": "alpha", "label": "x"},
            {"Authorization": f"Bearer {world.national_token}"},
            403,
        ),
        ({"partnership": "alpha", "label": "x"}, {}, 401),
    ):
        assert raw.post("/api/v1/feeds", json=body, headers=headers).status_code == status
    url = raw.post(
        "/api/v1/feeds", json={"partnership": "alpha", "label": "x"}, headers=viewer
    ).json()["url"]
    assert raw.get(url).status_code == 200
    database.write(
        lambda s: accounts.set_active(
            s, accounts.get_user(s, "alpha-viewer"), False, now=NOW, by=ADMIN
        )
    )
    assert raw.get(url).status_code == 404  # a disabled owner's feeds stop
