"""The statutory clock over HTTP: deadlines on the case, explanations, filters,
pauses and extensions, historic regimes and rulebook versions."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from fastapi.testclient import TestClient

from api.deps import get_now
from api.main import create_app
from config.settings import RULEBOOK_DIR, Settings
from tests.api.helpers import command, drive, open_case
from tests.support.db_plugin import Clock
from tests.support.factories import LCSPR_PATH
from tests.support.world import World


def deadline(case: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in case["deadlines"] if d["name"] == name)
    return found


def at(clock: Clock, day: str) -> None:
    clock.now = datetime.fromisoformat(f"{day}T10:00:00+00:00").astimezone(UTC)


def test_pending_deadline_with_explanation_and_rag(client: TestClient, clock: Clock) -> None:
    at(clock, "2025-03-05")
    case = open_case(client)  # aware Mon 3 Mar 2025
    d = deadline(case, "panel_notification")
    # Hand count: Tue 4 (1), Wed 5 (2), Thu 6 (3), Fri 7 (4), [Sat 8, Sun 9], Mon 10 (5).
    assert (d["state"], d["due_date"], d["working_days_remaining"]) == ("pending", "2025-03-10", 3)
    assert d["rag"] == "amber"  # 3 working days left: within the default amber threshold
    assert d["rule"] == "5 working_days after aware_date"
    assert "Sat 8 Mar 2025" in d["explanation"]
    assert "Sun 9 Mar 2025" in d["explanation"]
    assert "s16C" in d["source"]
    at(clock, "2025-03-03")
    early = client.get(f"/api/v1/cases/{case['id']}").json()
    assert deadline(early, "panel_notification")["rag"] == "green"


def test_met_late_and_overdue(client: TestClient, clock: Clock) -> None:
    at(clock, "2025-03-12")
    case = open_case(client)
    overdue = deadline(case, "panel_notification")
    # Due Mon 10 Mar; on Wed 12 Mar it is 2 working days overdue (Tue 11, Wed 12).
    assert (overdue["state"], overdue["working_days_late"], overdue["rag"]) == ("overdue", 2, "red")
    case = drive(client, case, ("record_notification", {"notification_date": "2025-03-11"}))
    met = deadline(case, "panel_notification")
    assert (met["state"], met["on_time"], met["working_days_late"]) == ("met", False, 1)
    # 15 working days from aware 3 Mar 2025 (no bank holidays): Mon 24 Mar.
    assert deadline(case, "rapid_review_sent")["due_date"] == "2025-03-24"


def test_list_filters_overdue_and_due_soon(client: TestClient, clock: Clock) -> None:
    at(clock, "2025-03-12")
    late = open_case(client)  # notification due 10 Mar: overdue
    on_time = drive(client, open_case(client), "record_notification")  # notified 7 Mar
    soon = open_case(client, incident_date="2025-03-10", aware_date="2025-03-11")  # due 18 Mar

    def ids(**params: Any) -> set[str]:
        return {c["id"] for c in client.get("/api/v1/cases", params=params).json()["items"]}

    assert ids(overdue=True) == {late["id"]}
    assert ids(overdue=True, deadline="rapid_review_sent") == set()
    # Rapid review for the on-time case: 15 working days from 3 Mar = 24 Mar, 8 working
    # days after Wed 12 Mar; the new case's notification is due Tue 18 Mar (4 working days).
    assert ids(due_within=4) == {soon["id"]}
    assert ids(due_within=8) == {soon["id"], on_time["id"], late["id"]}
    assert ids(deadline="panel_notification") == {late["id"], soon["id"]}


LCSPR_TO_REPORT = LCSPR_PATH[:7]


def test_deferral_pauses_the_lcspr_deadline_and_resumption_restarts_it(
    client: TestClient, clock: Clock
) -> None:
    case = drive(client, open_case(client), *LCSPR_TO_REPORT, "defer_publication")
    d = deadline(case, "lcspr_published")
    assert d["state"] == "paused"
    case = drive(client, case, "resume_publication")
    d = deadline(case, "lcspr_published")
    # Decision 20 Mar 2025 + 6 months = Sat 20 Sep 2025; paused Sun 10 Aug to Mon 3 Nov
    # = 85 calendar days (21 + 30 + 31 + 3), so due Sun 14 Dec 2025.
    assert (d["state"], d["due_date"], d["paused_days"]) == ("overdue", "2025-12-14", 85)
    assert "publication deferred for criminal_trial" in d["explanation"]


def test_extension_with_reason_and_approver(
    client: TestClient, raw: TestClient, world: World, clock: Clock
) -> None:
    at(clock, "2025-03-12")
    case = drive(client, open_case(client), "record_notification")
    body = {
        "deadline": "rapid_review_sent",
        "kind": "extension",
        "effective_date": "2025-03-28",
        "reason": "Police disclosure awaited",
        "approved_by": "Chair of the sub-group",
    }
    url = f"/api/v1/cases/{case['id']}/deadline-adjustments"
    refused = raw.post(
        url, json=body, headers={**world.auth("alpha", "notifier"), "If-Match": '"2"'}
    )
    assert refused.status_code == 403
    response = client.post(url, json=body, headers={"If-Match": '"2"'})
    assert response.status_code == 200, response.text
    d = deadline(response.json(), "rapid_review_sent")
    assert d["due_date"] == "2025-03-28"
    assert "Police disclosure awaited" in d["explanation"]
    assert "Chair of the sub-group" in d["explanation"]
    events = client.get(f"/api/v1/cases/{case['id']}/timeline").json()["items"]
    assert events[-1]["event_type"] == "adjust_deadline"
    assert events[-1]["from_state"] == events[-1]["to_state"] == "rapid_review"
    unknown = client.post(url, json={**body, "deadline": "nope"}, headers={"If-Match": '"3"'})
    assert unknown.status_code == 422
    assert unknown.json()["errors"][0]["field"] == "deadline"
    not_pausable = client.post(
        url,
        json={**body, "kind": "pause", "effective_date": "2025-03-12"},
        headers={"If-Match": '"3"'},
    )
    assert not_pausable.status_code == 422


def test_historic_cases_take_the_regime_in_force(client: TestClient) -> None:
    scr = open_case(
        client, rulebook="england-scr-2015", incident_date="2016-12-20", aware_date="2016-12-22"
    )
    assert scr["rulebook"]["id"] == "england-scr-2015"
    # Thu 22 Dec 2016 + 5 working days: Fri 23 (1), [Sat 24, Sun 25, Mon 26 Boxing Day,
    # Tue 27 Christmas Day (substitute)], Wed 28 (2), Thu 29 (3), Fri 30 (4),
    # [Sat 31, Sun 1, Mon 2 Jan New Year's Day (substitute)], Tue 3 Jan 2017 (5).
    due = {d["due_date"] for d in scr["deadlines"] if d["from_fact"] == "aware_date"}
    assert due == {"2017-01-03"}
    by_date = open_case(client, incident_date="2019-01-08", aware_date="2019-01-10")
    assert by_date["rulebook"]["id"] == "england-2018"
    wrong = client.post(
        "/api/v1/incidents",
        json={
            **__import__("tests.support.factories", fromlist=["incident"]).incident(
                incident_date="2019-01-08", aware_date="2019-01-10"
            ),
            "rulebook": "england-2023",
        },
    )
    assert wrong.status_code == 422
    assert wrong.json()["errors"][0]["field"] == "rulebook"


def test_open_case_keeps_its_rulebook_version(
    settings: Settings, world: World, tmp_path: Path, clock: Clock
) -> None:
    at(clock, "2025-03-04")
    rulebooks = tmp_path / "rulebooks"
    rulebooks.mkdir()
    shutil.copy(RULEBOOK_DIR / "england-2023.yaml", rulebooks)
    headers = {"Authorization": f"Bearer {world.officer_token}"}

    def app_for(directory: Path) -> Any:
        app = create_app(settings.model_copy(update={"rulebook_dir": directory}))
        app.dependency_overrides[get_now] = lambda: clock.now
        return app

    with TestClient(app_for(rulebooks), headers=headers) as c:
        v1_case = open_case(c)
    data = yaml.safe_load((RULEBOOK_DIR / "england-2023.yaml").read_text())
    data["version"] = 2
    data["deadlines"][0]["amount"] = 3  # panel_notification: 3 working days in "v2"
    (rulebooks / "england-2023-v2.yaml").write_text(yaml.safe_dump(data))
    with TestClient(app_for(rulebooks), headers=headers) as c:
        old = c.get(f"/api/v1/cases/{v1_case['id']}").json()
        new = open_case(c)
        assert old["rulebook"]["version"] == 1
        assert deadline(old, "panel_notification")["due_date"] == "2025-03-10"
        assert new["rulebook"]["version"] == 2
        assert deadline(new, "panel_notification")["due_date"] == "2025-03-06"  # Thu: 3 days
        after = drive(
            c, old, ("record_partners_informed", {"partners_informed_date": "2025-03-04"})
        )
        assert deadline(after, "panel_notification")["due_date"] == "2025-03-10"


def test_rulebooks_list_and_diagram(client: TestClient) -> None:
    ids = {r["id"] for r in client.get("/api/v1/rulebooks").json()["items"]}
    assert ids == {
        "england-2023",
        "england-panel-2025",
        "england-2018",
        "england-scr-2015",
        "england-scr-2013",
        "england-scr-2010",
        "england-scr-2006",
        "wales-cpr-2012",
        "wales-susr-2024",
        "scotland-learning-review-2021",
        "northern-ireland-cmr-2012",
    }
    rb = client.get("/api/v1/rulebooks/england-panel-2025").json()
    assert rb["rapid_review_clock_start"] == "notification_date"
    assert any(d["name"] == "rapid_review_sent" for d in rb["deadlines"])
    diagram = client.get("/api/v1/rulebooks/england-2023/diagram")
    assert diagram.headers["content-type"].startswith("text/plain")
    text = diagram.text
    assert text.startswith("stateDiagram-v2")
    assert "[*] --> notification_due : log_incident [incident_is_notifiable]" in text
    assert "closed --> [*]" in text
    assert rb["mermaid"].startswith("stateDiagram-v2")


def test_refused_command_changes_no_deadline(client: TestClient, clock: Clock) -> None:
    at(clock, "2025-03-05")
    case = open_case(client)
    assert (
        command(client, case, "record_notification", notification_date="2025-03-01").status_code
        == 422
    )
    again = client.get(f"/api/v1/cases/{case['id']}").json()
    assert deadline(again, "panel_notification")["state"] == "pending"
