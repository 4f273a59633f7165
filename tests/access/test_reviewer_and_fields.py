"""Independent reviewers reach only the case they are commissioned for; roles
without personal-data rights never receive it."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import command, drive, open_case
from tests.support.world import World


def test_reviewer_assignment(client: TestClient, raw: TestClient, world: World) -> None:
    other_case = open_case(client)
    case = drive(
        client,
        open_case(client),
        "record_notification",
        "complete_rapid_review",
        "record_decision",
        "record_panel_response",
    )
    case = drive(client, case, ("commission_reviewer", {"reviewer_username": "alpha-reviewer"}))
    reviewer = world.auth("alpha", "reviewer")

    got = raw.get(f"/api/v1/cases/{case['id']}", headers=reviewer)
    assert got.status_code == 200
    assert got.json()["records"]["reviewer"]["reviewer_name"] == "Jane Reviewer"
    assert got.json()["allowed_actions"] == ["record_involvement"]  # not the terms of reference
    assert raw.get(f"/api/v1/cases/{other_case['id']}", headers=reviewer).status_code == 404
    listed = raw.get("/api/v1/cases", headers=reviewer).json()["items"]
    assert [c["id"] for c in listed] == [case["id"]]

    case = drive(client, case, "agree_terms_of_reference")
    report = command(raw, case, "receive_final_report", headers=reviewer)
    assert report.status_code == 200, report.text
    assert report.json()["state"] == "pre_publication"
    events = raw.get(f"/api/v1/cases/{case['id']}/timeline", headers=reviewer).json()
    assert events["items"][-1]["actor"] == "alpha-reviewer"
    refused = command(raw, report.json(), "send_report_to_panel", headers=reviewer)
    assert refused.status_code == 403


def test_commissioning_an_unknown_reviewer_account_is_422(client: TestClient) -> None:
    case = drive(
        client,
        open_case(client),
        "record_notification",
        "complete_rapid_review",
        "record_decision",
        "record_panel_response",
    )
    for username in ("nobody", "beta-reviewer", "alpha-viewer"):
        refused = command(client, case, "commission_reviewer", reviewer_username=username)
        assert refused.status_code == 422
        assert refused.json()["errors"][0]["field"] == "reviewer_username"


def test_viewer_gets_state_and_dates_but_no_personal_data(
    client: TestClient, raw: TestClient, world: World
) -> None:
    case = drive(client, open_case(client), "record_notification")
    got = raw.get(f"/api/v1/cases/{case['id']}", headers=world.auth("alpha", "viewer"))
    body = got.json()
    assert (body["state"], body["facts"]["notification_date"]) == ("rapid_review", "2025-03-07")
    assert body["records"] is None
    assert "Child A" not in got.text
    timeline = raw.get(
        f"/api/v1/cases/{case['id']}/timeline", headers=world.auth("alpha", "viewer")
    )
    assert [e["payload"] for e in timeline.json()["items"]] == [None, None]
    assert "Child A" not in timeline.text
    assert got.headers["cache-control"] == "private, no-cache"  # no personal data in it


def test_next_actions_show_only_what_the_caller_may_do(
    client: TestClient, raw: TestClient, world: World
) -> None:
    case = open_case(client)
    url = f"/api/v1/cases/{case['id']}/next-actions"
    as_notifier = raw.get(url, headers=world.auth("alpha", "notifier")).json()
    assert [a["action"] for a in as_notifier["actions"]] == [
        "record_notification",
        "record_partners_informed",
    ]
    as_group = raw.get(url, headers=world.auth("alpha", "review_group")).json()
    assert [a["action"] for a in as_group["actions"]] == ["record_partners_informed"]
    as_viewer = raw.get(url, headers=world.auth("alpha", "viewer")).json()
    assert as_viewer["actions"] == []
