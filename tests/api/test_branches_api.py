"""The branches that leave the review path after a notification (issue 17), over HTTP on
both databases: the rapid review concludes the case does not meet the criteria, and a
notification sent in error or duplicated is withdrawn. Routes, permissions and refusal
words come from the command classes (workflow/commands/branches.py)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import command, drive, open_case, timeline
from tests.support.world import World

PROBLEM = "application/problem+json"


def _signed_in(client: TestClient, world: World, role: str) -> TestClient:
    """The one place this file signs a client in as alpha's `role` (token today)."""
    client.headers["Authorization"] = f"Bearer {world.tokens[('alpha', role)]}"
    return client


def _in_rapid_review(client: TestClient) -> dict[str, Any]:
    return drive(client, open_case(client), "record_notification")


def test_criteria_not_met_leaves_the_review_path_with_reasons_and_date(
    client: TestClient,
) -> None:
    case = drive(client, _in_rapid_review(client), "conclude_criteria_not_met")
    assert (case["state"], case["stage"]) == ("criteria_not_met", "no_review")
    record = case["records"]["criteria_not_met"]
    assert record["panel_told_date"] == "2025-03-17"
    assert record["reasons"].startswith("Injury found to be accidental")
    # The rapid review's 15 working days no longer run: the case left the review path.
    live = {d["name"]: d["state"] for d in case["deadlines"]}
    assert live.get("rapid_review_sent", "not_applicable") == "not_applicable", live
    assert live["panel_notification"] == "met"
    assert case["allowed_actions"] == ["close_case"]
    case = drive(client, case, "close_case")
    assert case["state"] == "closed"
    assert [e["event_type"] for e in timeline(client, case)][-2:] == [
        "conclude_criteria_not_met",
        "close_case",
    ]


def test_criteria_not_met_refusals_are_problem_json(client: TestClient) -> None:
    case = open_case(client)  # not notified yet: no rapid review to conclude
    refused = command(client, case, "conclude_criteria_not_met")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith(PROBLEM)
    assert refused.json()["current_state"] == "notification_due"
    assert "conclude_criteria_not_met" not in refused.json()["allowed_actions"]

    case = _in_rapid_review(client)
    early = command(client, case, "conclude_criteria_not_met", panel_told_date="2025-03-13")
    assert early.status_code == 422
    assert early.headers["content-type"].startswith(PROBLEM)
    assert "panel_told_date is before concluded_date" in early.text
    before = command(client, case, "conclude_criteria_not_met", concluded_date="2025-03-06")
    assert before.status_code == 422
    assert any(e["field"] == "concluded_date" for e in before.json()["errors"])


def test_a_notification_sent_in_error_is_withdrawn_and_stays_readable(
    client: TestClient,
) -> None:
    case = drive(client, _in_rapid_review(client), "withdraw_notification")
    assert (case["state"], case["allowed_actions"]) == ("notification_withdrawn", [])
    got = client.get(f"/api/v1/cases/{case['id']}")
    assert got.status_code == 200
    assert got.json()["records"]["notification_withdrawal"]["reason"] == "sent_in_error"
    refused = command(client, case, "complete_rapid_review")
    assert refused.status_code == 409
    assert refused.json()["current_state"] == "notification_withdrawn"


def test_a_duplicate_names_the_original(client: TestClient) -> None:
    case = _in_rapid_review(client)
    unnamed = command(client, case, "withdraw_notification", reason="duplicate")
    assert unnamed.status_code == 422
    assert "duplicate_of is required" in unnamed.text
    case = drive(
        client, case, ("withdraw_notification", {"reason": "duplicate", "duplicate_of": "SIN-1"})
    )
    assert case["records"]["notification_withdrawal"]["duplicate_of"] == "SIN-1"


def test_a_historic_scr_notification_can_be_withdrawn(client: TestClient) -> None:
    case = open_case(client, incident_date="2008-05-01", aware_date="2008-05-02")
    assert case["rulebook"] == {"id": "england-scr-2006", "version": 1}
    case = drive(
        client,
        case,
        (
            "record_notification",
            {"notification_date": "2008-05-06", "partners_informed_date": "2008-05-06"},
        ),
    )
    case = drive(client, case, ("withdraw_notification", {"withdrawn_on": "2008-05-07"}))
    assert case["state"] == "notification_withdrawn"
    # No rapid review under the SCR regime, so nothing to conclude there.
    assert "conclude_criteria_not_met" not in case["allowed_actions"]


def test_who_may_withdraw_or_conclude(client: TestClient, world: World) -> None:
    case = _in_rapid_review(client)
    reviewer = _signed_in(client, world, "reviewer")
    refused = command(reviewer, case, "withdraw_notification")
    assert refused.status_code in (403, 404)
    assert refused.headers["content-type"].startswith(PROBLEM)
    notifier = _signed_in(client, world, "notifier")
    concluded = command(notifier, case, "conclude_criteria_not_met")
    assert concluded.status_code == 403
    assert "recording that the case does not meet the criteria" in concluded.json()["detail"]
    withdrawn = command(notifier, case, "withdraw_notification")
    assert withdrawn.status_code == 200
