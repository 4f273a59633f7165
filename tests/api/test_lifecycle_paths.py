"""Every path of the england-2023 lifecycle, end to end over HTTP, on both databases."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.api.helpers import command, complete_action_plan, drive, open_case, timeline
from tests.support.factories import LCSPR_PATH

LCSPR = LCSPR_PATH[:8]  # up to the report sent to the Panel


def test_lcspr_published_then_closed(client: TestClient) -> None:
    case = open_case(client)
    assert (case["state"], case["version"], case["stage"]) == (
        "notification_due",
        1,
        "notification",
    )
    assert case["rulebook"] == {"id": "england-2023", "version": 2}  # with the branches of #17
    expected_states = [
        "rapid_review",
        "decision_due",
        "panel_response_due",
        "reviewer_commissioning",
        "terms_of_reference_due",
        "review_in_progress",
        "pre_publication",
        "publication_due",
        "action_plan_monitoring",
        "closed",
    ]
    seen = []
    for trigger in [*LCSPR, "publish_report"]:
        case = drive(client, case, trigger)
        seen.append(case["state"])
    refused = command(client, case, "close_case")
    assert refused.status_code == 409  # recommendation 1 has no action yet
    assert "action_plan_complete" in refused.json()["detail"]
    case = complete_action_plan(client, case)  # add, complete, sign off: 3 more versions
    case = drive(client, case, "close_case")
    seen.append(case["state"])
    assert seen == expected_states
    assert case["version"] == 14
    assert case["facts"]["published_date"] == "2025-08-20"
    assert case["facts"]["publication_status"] == "published"
    assert case["records"]["report"]["recommendations"] == ["Refresh the bruising protocol"]
    assert case["allowed_actions"] == ["withdraw_publication"]

    events = [e for e in timeline(client, case) if e["from_state"] != e["to_state"]]
    assert [e["sequence"] for e in timeline(client, case)] == list(range(1, 15))
    assert [e["to_state"] for e in events] == ["notification_due", *expected_states]
    assert [e["from_state"] for e in events] == [None, "notification_due", *expected_states[:-1]]
    assert {e["actor"] for e in events} == {"la.officer"}
    assert events[3]["event_type"] == "record_decision"
    assert events[3]["payload"]["decision"] == "local_review"


def test_no_review_path_records_learning_and_closes(client: TestClient) -> None:
    case = drive(
        client,
        open_case(client),
        "record_notification",
        "complete_rapid_review",
        ("record_decision", {"decision": "no_review", "learning": "Share via training."}),
        "record_panel_response",
    )
    assert case["state"] == "no_review"
    assert case["records"]["decision"]["learning"] == "Share via training."
    case = drive(client, case, "close_case")
    assert case["state"] == "closed"


def test_no_review_without_learning_is_refused(client: TestClient) -> None:
    case = drive(client, open_case(client), "record_notification", "complete_rapid_review")
    response = command(client, case, "record_decision", decision="no_review")
    assert response.status_code == 422
    assert "learning" in response.json()["detail"]


def test_national_review_leaves_local_path_but_stays_readable(client: TestClient) -> None:
    case = drive(
        client,
        open_case(client),
        "record_notification",
        "complete_rapid_review",
        ("record_decision", {"decision": "national_review_recommended"}),
        ("record_panel_response", {"national_review": True}),
    )
    assert case["state"] == "national_review"
    assert case["allowed_actions"] == ["close_case"]
    assert client.get(f"/api/v1/cases/{case['id']}").json()["state"] == "national_review"
    refused = command(client, case, "commission_reviewer")
    assert refused.status_code == 409
    assert drive(client, case, "close_case")["state"] == "closed"


def test_panel_declines_national_review_returns_to_decision(client: TestClient) -> None:
    case = drive(
        client,
        open_case(client),
        "record_notification",
        "complete_rapid_review",
        ("record_decision", {"decision": "national_review_recommended"}),
        ("record_panel_response", {"national_review": False, "agrees_with_decision": False}),
    )
    assert case["state"] == "decision_due"
    case = drive(
        client,
        case,
        ("record_decision", {"decision_date": "2025-04-02"}),
        ("record_panel_response", {"response_date": "2025-04-09"}),
    )
    assert case["state"] == "reviewer_commissioning"


def test_publication_deferred_then_resumed_and_published(client: TestClient) -> None:
    case = drive(client, open_case(client), *LCSPR, "defer_publication")
    assert case["state"] == "publication_deferred"
    assert case["facts"]["publication_status"] == "delayed_parallel_proceedings"
    case = drive(client, case, ("resume_publication", {"planned_publication_date": "2025-11-20"}))
    assert case["state"] == "publication_due"  # the report had already gone to the Panel
    assert case["facts"]["planned_publication_date"] == "2025-11-20"
    case = drive(client, case, ("publish_report", {"published_date": "2025-11-20"}))
    assert case["state"] == "action_plan_monitoring"


def test_deferral_before_sending_resumes_to_pre_publication(client: TestClient) -> None:
    case = drive(client, open_case(client), *LCSPR[:-1], "defer_publication", "resume_publication")
    assert case["state"] == "pre_publication"


def test_decided_not_to_publish(client: TestClient) -> None:
    case = drive(client, open_case(client), *LCSPR, "decide_not_to_publish")
    assert case["state"] == "action_plan_monitoring"
    assert case["facts"]["publication_status"] == "improvements_published_instead"
    case = complete_action_plan(client, case)
    assert drive(client, case, "close_case")["state"] == "closed"


def test_not_notifiable_incident_is_kept_outside_review_path(client: TestClient) -> None:
    case = open_case(
        client,
        criteria={"nature": "other", "abuse_or_neglect": "not_suspected", "child_age_years": 4},
    )
    assert case["state"] == "not_notifiable"
    assert case["facts"]["notifiable"] is False
    assert case["allowed_actions"] == ["close_case"]
    assert command(client, case, "record_notification").status_code == 409
    assert drive(client, case, "close_case")["state"] == "closed"


def test_looked_after_child_death_is_notified_without_rapid_review(client: TestClient) -> None:
    case = open_case(
        client,
        criteria={
            "nature": "death",
            "abuse_or_neglect": "not_suspected",
            "child_age_years": 15,
            "looked_after_child": True,
        },
    )
    assert case["state"] == "notification_due"
    assert case["facts"]["meets_review_criteria"] is False
    case = drive(client, case, "record_notification")
    assert case["state"] == "notified_no_review"


def test_partners_informed_is_recorded_without_changing_state(client: TestClient) -> None:
    case = drive(client, open_case(client), "record_partners_informed")
    assert case["state"] == "notification_due"
    assert case["version"] == 2
    assert case["facts"]["partners_informed_date"] == "2025-03-07"
    events = timeline(client, case)
    assert (events[-1]["from_state"], events[-1]["to_state"]) == ("notification_due",) * 2
