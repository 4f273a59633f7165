"""Correcting a recorded fact over HTTP: a change of the case like any other, which
never rewrites history, and is refused when the corrected facts break a rule."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.helpers import drive, open_case, timeline
from tests.support.factories import LCSPR_PATH
from tests.support.world import World
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord


def correct(
    client: TestClient,
    case: dict[str, Any],
    record: str,
    changes: dict[str, Any],
    *,
    reason: str = "Typed wrongly from the paper form.",
    version: int | None = None,
    headers: dict[str, str] | None = None,
) -> Any:
    if_match = f'"{case["version"] if version is None else version}"'
    return client.post(
        f"/api/v1/cases/{case['id']}/corrections",
        json={"record": record, "changes": changes, "reason": reason},
        headers={"If-Match": if_match, **(headers or {})},
    )


def _deadline(case: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in case["deadlines"] if d["name"] == name)
    return found


def _problem(response: Any, status: int, field: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert [e["field"] for e in body["errors"]] == [field], body
    detail: str = body["detail"]
    return detail


def test_correcting_a_wrong_notification_date(client: TestClient, database: Database) -> None:
    case = open_case(client)  # aware Mon 3 Mar 2025: notification due Mon 10 Mar
    case = drive(client, case, ("record_notification", {"notification_date": "2025-03-12"}))
    assert _deadline(case, "panel_notification")["met_date"] == "2025-03-12"
    assert _deadline(case, "panel_notification")["on_time"] is False

    done = correct(client, case, "notification", {"notification_date": "2025-03-07"})

    assert done.status_code == 200, done.text
    assert done.headers["etag"] == f'"{case["version"] + 1}"'
    after = done.json()
    assert after["version"] == case["version"] + 1
    assert after["state"] == case["state"]
    assert after["facts"]["notification_date"] == "2025-03-07"
    assert after["records"]["notification"]["notification_date"] == "2025-03-07"
    met = _deadline(after, "panel_notification")
    assert (met["met_date"], met["on_time"]) == ("2025-03-07", True)
    events = timeline(client, after)
    original = next(e for e in events if e["event_type"] == "record_notification")
    assert original["payload"]["notification_date"] == "2025-03-12"  # history unchanged
    fix = events[-1]
    assert (fix["event_type"], fix["sequence"]) == ("correction", after["version"])
    assert fix["payload"]["changes"] == [
        {"field": "notification_date", "old": "2025-03-12", "new": "2025-03-07"}
    ]
    assert fix["payload"]["corrects"] == original["sequence"]
    assert fix["payload"]["reason"] == "Typed wrongly from the paper form."
    actions = database.read(
        lambda s: list(
            s.scalars(
                select(AuditRecord.action).where(
                    AuditRecord.case_id == _uuid(case), AuditRecord.outcome == "ok"
                )
            )
        )
    )
    assert actions.count("correction") == 1
    listed = client.get(f"/api/v1/cases/{case['id']}/corrections").json()["items"]
    assert [(i["record"], i["fields"], i["reason"]) for i in listed] == [
        ("notification", ["notification_date"], "Typed wrongly from the paper form.")
    ]
    assert listed[0]["changes"][0]["old"] == "2025-03-12"


def _uuid(case: dict[str, Any]) -> Any:
    import uuid

    return uuid.UUID(case["id"])


def test_a_second_correction_corrects_the_corrected_value(client: TestClient) -> None:
    case = drive(client, open_case(client), "record_notification")
    case = correct(client, case, "notification", {"notification_reference": "SIN-1"}).json()
    case = correct(client, case, "notification", {"notification_reference": "SIN-12"}).json()
    assert case["records"]["notification"]["notification_reference"] == "SIN-12"
    listed = client.get(f"/api/v1/cases/{case['id']}/corrections").json()["items"]
    assert [i["changes"][0]["old"] for i in listed] == [None, "SIN-1"]


def test_refusals_name_the_field(client: TestClient) -> None:
    case = drive(client, open_case(client), *LCSPR_PATH[:3])  # decision recorded
    bad = correct(client, case, "incident", {"rulebook": "england-2018"})
    assert "cannot be corrected" in _problem(bad, 422, "changes.rulebook")
    bad = correct(client, case, "notification", {"colour": "blue"})
    assert "no field" in _problem(bad, 422, "changes.colour")
    bad = correct(client, case, "minutes", {"x": 1})
    _problem(bad, 422, "record")
    bad = correct(client, case, "panel_response", {"response_date": "2025-04-02"})
    assert "no panel_response record" in _problem(bad, 422, "record")
    bad = correct(client, case, "notification", {"notification_date": "7 March"})
    _problem(bad, 422, "changes.notification_date")
    bad = correct(client, case, "decision", {"decision": "no_review"})  # learning required
    assert "learning" in _problem(bad, 422, "changes.decision")
    bad = correct(client, case, "notification", {"notification_date": "2025-03-07"})
    assert "already the recorded one" in _problem(bad, 422, "changes")
    # Date orders the commands' own rules refuse, in this record or another.
    bad = correct(client, case, "notification", {"notification_date": "2025-03-01"})
    assert "before the case's aware_date" in _problem(bad, 422, "changes.notification_date")
    bad = correct(client, case, "decision", {"decision_date": "2025-03-17"})
    assert "rapid_review_meeting_date" in _problem(bad, 422, "changes.decision_date")
    bad = correct(client, case, "incident", {"aware_date": "2025-03-19"})
    assert "the notification record" in _problem(bad, 422, "changes.aware_date")
    unchanged = client.get(f"/api/v1/cases/{case['id']}").json()
    assert unchanged["version"] == case["version"]


def test_a_correction_the_rulebook_cannot_reach_is_refused(client: TestClient) -> None:
    case = drive(client, open_case(client), *LCSPR_PATH[:5])  # reviewer commissioned
    bad = correct(client, case, "decision", {"decision": "no_review", "learning": "Single-agency."})
    detail = _problem(bad, 409, "changes")
    assert "history-conflict" in bad.json()["type"]
    assert "record_panel_response" in detail
    assert "would lead to no_review" in detail
    # Before the Panel responded, the same correction is possible.
    early = drive(client, open_case(client), *LCSPR_PATH[:3])
    done = correct(client, early, "decision", {"decision": "no_review", "learning": "Single."})
    assert done.status_code == 200, done.text
    assert done.json()["facts"]["decision"] == "no_review"
    # An opening fact too: an incident corrected to not notifiable, once notified.
    bad = correct(
        client,
        early,
        "incident",
        {
            "criteria": {
                "nature": "other",
                "abuse_or_neglect": "not_suspected",
                "child_age_years": 5,
            }
        },
        version=early["version"] + 1,
    )
    assert "log_incident" in _problem(bad, 409, "changes.criteria")


def test_permissions_version_and_replay(raw: TestClient, client: TestClient, world: World) -> None:
    case = drive(client, open_case(client), *LCSPR_PATH[:3])
    change = {"reasons": "Systemic learning for three agencies."}
    viewer = correct(raw, case, "decision", change, headers=world.auth("alpha", "viewer"))
    assert viewer.status_code == 403, viewer.text
    notifier = correct(raw, case, "decision", change, headers=world.auth("alpha", "notifier"))
    assert notifier.status_code == 403  # notifiers do not record decisions
    other = correct(raw, case, "decision", change, headers=world.auth("beta", "review_group"))
    assert other.status_code == 404
    stale = correct(client, case, "decision", change, version=case["version"] - 1)
    assert stale.status_code == 412
    assert stale.json()["current_version"] == case["version"]
    missing = client.post(
        f"/api/v1/cases/{case['id']}/corrections",
        json={"record": "decision", "changes": change, "reason": "r"},
    )
    assert missing.status_code == 428
    key = {"Idempotency-Key": "correct-decision-1"}
    first = correct(client, case, "decision", change, headers=key)
    again = correct(client, case, "decision", change, headers=key)
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.headers.get("idempotent-replayed") == "true"
    assert again.json()["version"] == first.json()["version"] == case["version"] + 1
    events = timeline(client, first.json())
    assert [e["event_type"] for e in events].count("correction") == 1


def test_corrections_are_redacted_for_roles_without_personal_data(
    raw: TestClient, client: TestClient, world: World
) -> None:
    case = drive(client, open_case(client), "record_notification")
    assert correct(client, case, "notification", {"notes": "Sent by e-mail."}).status_code == 200
    url = f"/api/v1/cases/{case['id']}/corrections"
    seen = raw.get(url, headers=world.auth("alpha", "viewer"))
    assert seen.status_code == 200
    (item,) = seen.json()["items"]
    assert (item["fields"], item["changes"], item["reason"]) == (["notes"], None, None)
    assert raw.get(url, headers=world.auth("beta", "viewer")).status_code == 404
    (full,) = raw.get(url, headers=world.auth("alpha", "review_group")).json()["items"]
    assert full["changes"] == [{"field": "notes", "old": None, "new": "Sent by e-mail."}]
