"""Action plans, publication management, involvement and thematic reviews over HTTP."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.api.helpers import ACTION, command, drive, open_case
from tests.support.db_plugin import Clock
from tests.support.factories import LCSPR_PATH
from tests.support.world import World

TO_PUBLICATION = LCSPR_PATH[:8]


def published(client: TestClient, **report: Any) -> dict[str, Any]:
    steps: list[Any] = list(TO_PUBLICATION)
    if report:
        steps[6] = ("receive_final_report", report)
    return drive(client, open_case(client), *steps, "publish_report")


def add(client: TestClient, case: dict[str, Any], version: int, **body: Any) -> Any:
    return client.post(
        f"/api/v1/cases/{case['id']}/actions",
        json={**ACTION, **body},
        headers={"If-Match": f'"{version}"'},
    )


def test_recommendations_become_the_action_plan(client: TestClient, clock: Clock) -> None:
    case = published(
        client, recommendations=["Refresh the bruising protocol", "Train GPs on non-mobile babies"]
    )
    plan = client.get(f"/api/v1/cases/{case['id']}/actions").json()
    assert [(r["number"], r["text"]) for r in plan["recommendations"]] == [
        (1, "Refresh the bruising protocol"),
        (2, "Train GPs on non-mobile babies"),
    ]
    assert (plan["open_actions"], plan["unactioned_recommendations"]) == (0, 2)
    added = add(client, case, case["version"], agency="police", due_date="2025-12-01")
    assert added.status_code == 201
    assert added.headers["etag"] == f'"{case["version"] + 1}"'
    plan = added.json()
    (action,) = plan["actions"]
    assert (action["status"], action["recommendation_number"]) == ("not_started", 1)
    assert action["overdue"] is True  # due 1 Dec 2025; the clock says 15 Jan 2026
    assert (plan["open_actions"], plan["unactioned_recommendations"]) == (1, 1)
    missing = add(client, case, plan["version"], recommendation_number=3)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "recommendation_number"
    other = add(client, case, plan["version"], agency="other")
    assert other.status_code == 422  # agency_name required for other agencies


def test_closing_needs_every_action_signed_off_or_closed(client: TestClient) -> None:
    case = published(client)
    plan = add(client, case, case["version"]).json()
    action_id = plan["actions"][0]["id"]
    case = client.get(f"/api/v1/cases/{case['id']}").json()
    refused = command(client, case, "close_case")
    assert refused.status_code == 409
    assert refused.json()["current_state"] == "action_plan_monitoring"
    url = f"/api/v1/cases/{case['id']}/actions/{action_id}"
    early = client.post(
        f"{url}/sign-off", json={"note": "?"}, headers={"If-Match": f'"{case["version"]}"'}
    )
    assert early.status_code == 409  # not completed yet
    closed = client.post(
        f"{url}/not-achieved",
        json={"reason": "Service decommissioned"},
        headers={"If-Match": f'"{case["version"]}"'},
    )
    assert closed.status_code == 200
    assert closed.json()["actions"][0]["status"] == "not_achieved"
    assert closed.json()["actions"][0]["status_reason"] == "Service decommissioned"
    case = client.get(f"/api/v1/cases/{case['id']}").json()
    assert drive(client, case, "close_case")["state"] == "closed"


def test_action_owner_reports_progress_on_their_own_action(
    client: TestClient, raw: TestClient, world: World
) -> None:
    case = published(client, recommendations=["One", "Two"])
    mine = add(client, case, case["version"], owner_username="alpha-action_owner").json()
    theirs = add(client, case, mine["version"], recommendation_number=2).json()
    owner = world.auth("alpha", "action_owner")
    url = f"/api/v1/cases/{case['id']}/actions"
    body = {"status": "in_progress", "note": "Drafting the new protocol"}
    ok = raw.post(
        f"{url}/{mine['actions'][0]['id']}/progress",
        json=body,
        headers={**owner, "If-Match": f'"{theirs["version"]}"'},
    )
    assert ok.status_code == 200, ok.text
    (mine_now,) = [a for a in ok.json()["actions"] if a["id"] == mine["actions"][0]["id"]]
    updates = mine_now["updates"]
    assert [(u["actor"], u["status"]) for u in updates] == [("alpha-action_owner", "in_progress")]
    (their_action,) = [a for a in theirs["actions"] if a["recommendation_number"] == 2]
    refused = raw.post(
        f"{url}/{their_action['id']}/progress",
        json=body,
        headers={**owner, "If-Match": f'"{ok.json()["version"]}"'},
    )
    assert refused.status_code == 403
    viewer = raw.post(
        f"{url}/{mine['actions'][0]['id']}/progress",
        json=body,
        headers={**world.auth("alpha", "viewer"), "If-Match": '"99"'},
    )
    assert viewer.status_code == 403
    sign = raw.post(
        f"{url}/{mine['actions'][0]['id']}/sign-off",
        json={"note": "x"},
        headers={**owner, "If-Match": f'"{ok.json()["version"]}"'},
    )
    assert sign.status_code == 403  # only the review group signs off


def test_actions_across_cases_by_agency_and_overdue(
    client: TestClient, raw: TestClient, world: World
) -> None:
    first, second = published(client), published(client)
    add(client, first, first["version"], agency="police", due_date="2025-12-01")
    add(client, second, second["version"], agency="education", due_date="2026-06-30")
    items = client.get("/api/v1/actions", params={"status": "open"}).json()["items"]
    assert [a["agency"] for a in items] == ["police", "education"]  # earliest due first
    police = client.get("/api/v1/actions", params={"agency": "police"}).json()["items"]
    assert [a["case_id"] for a in police] == [first["id"]]
    overdue = client.get("/api/v1/actions", params={"status": "overdue"}).json()["items"]
    assert [a["case_id"] for a in overdue] == [first["id"]]
    beta = raw.get("/api/v1/actions", headers=world.auth("beta", "review_group")).json()
    assert beta["items"] == []


def test_publication_withdrawn_after_twelve_months(client: TestClient) -> None:
    case = published(client)
    early = command(client, case, "withdraw_publication", withdrawn_date="2026-01-10")
    assert early.status_code == 200  # warned, not refused: 20 Aug 2025 + 12 months
    body = early.json()
    assert body["facts"]["publication_status"] == "no_longer_published"
    stays = next(d for d in body["deadlines"] if d["name"] == "report_stays_published")
    assert (stays["state"], stays["on_time"], stays["due_date"]) == ("met", False, "2026-08-20")
    assert len(body["warnings"]) == 1
    assert "Thu 20 Aug 2026" in body["warnings"][0]


def test_publishing_inside_seven_working_days_refused_by_panel_2025(client: TestClient) -> None:
    case = open_case(
        client, rulebook="england-panel-2025", incident_date="2025-06-02", aware_date="2025-06-03"
    )
    case = drive(
        client,
        case,
        (
            "record_notification",
            {"notification_date": "2025-06-05", "partners_informed_date": "2025-06-05"},
        ),
        (
            "complete_rapid_review",
            {"meeting_date": "2025-06-18", "sent_to_panel_date": "2025-06-20"},
        ),
        ("record_decision", {"decision_date": "2025-06-20"}),
        ("record_panel_response", {"response_date": "2025-07-01"}),
        ("commission_reviewer", {"commissioned_date": "2025-07-03"}),
        ("agree_terms_of_reference", {"agreed_date": "2025-07-10"}),
        ("receive_final_report", {"received_date": "2025-08-01"}),
    )
    # Sent Tue 5 Aug 2025, publication Wed 13 Aug: 6 working days later (Wed 6 .. Wed 13),
    # so the report reached the Panel inside the 7-working-day window: refused.
    late = command(client, case, "send_report_to_panel", planned_publication_date="2025-08-13")
    assert late.status_code == 409
    assert late.json()["type"].endswith("rule-not-met")
    assert "7 working days before" in late.json()["detail"]
    case = drive(client, case, ("send_report_to_panel", {"planned_publication_date": "2025-08-14"}))
    early = command(client, case, "publish_report", published_date="2025-08-13")
    assert early.status_code == 409  # publishing earlier than planned breaks the rule too
    assert (
        drive(client, case, ("publish_report", {"published_date": "2025-08-14"}))["state"]
        == "action_plan_monitoring"
    )


def test_england_2023_only_warns_about_the_seven_day_rule(client: TestClient) -> None:
    case = drive(client, open_case(client), *LCSPR_PATH[:7])
    late = command(client, case, "send_report_to_panel", planned_publication_date="2025-08-13")
    assert late.status_code == 200
    assert any("7 working days before" in w for w in late.json()["warnings"])


def test_involvement_milestones(client: TestClient) -> None:
    case = drive(client, open_case(client), "record_notification")
    for milestone, day in (
        ("family_informed", "2025-03-10"),
        ("family_invited", "2025-03-12"),
        ("practitioner_event", "2025-03-14"),
    ):
        case = drive(
            client, case, ("record_involvement", {"milestone": milestone, "milestone_date": day})
        )
    assert case["state"] == "rapid_review"
    assert case["facts"]["family_invited_date"] == "2025-03-12"
    assert case["records"]["involvement.practitioner_event"]["milestone_date"] == "2025-03-14"


def test_thematic_review_carries_its_sources_learning(
    client: TestClient, raw: TestClient, world: World
) -> None:
    babies = [drive(client, open_case(client), *LCSPR_PATH[:3]) for _ in range(3)]
    body = {
        "title": "Three injured babies",
        "decision_date": "2025-04-02",
        "reasons": "Common themes across three rapid reviews",
        "source_case_ids": [b["id"] for b in babies],
    }
    response = client.post("/api/v1/thematic-reviews", json=body)
    assert response.status_code == 201, response.text
    thematic = response.json()
    assert (thematic["kind"], thematic["state"]) == ("thematic", "reviewer_commissioning")
    assert sorted(thematic["links"]["sources"]) == sorted(b["id"] for b in babies)
    assert any(d["name"] == "lcspr_published" for d in thematic["deadlines"])
    source = client.get(f"/api/v1/cases/{babies[0]['id']}").json()
    assert source["links"]["carried_by"] == [thematic["id"]]
    assert source["version"] == babies[0]["version"] + 1
    assert drive(client, source, "close_case")["state"] == "closed"
    again = client.post(
        "/api/v1/thematic-reviews",
        json={**body, "source_case_ids": [babies[0]["id"], babies[1]["id"]]},
    )
    assert again.status_code == 422  # babies[0] is now closed
    denied = raw.post(
        "/api/v1/thematic-reviews", json=body, headers=world.auth("alpha", "notifier")
    )
    assert denied.status_code == 403
