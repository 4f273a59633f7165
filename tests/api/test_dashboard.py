"""The dashboard and the annual report over HTTP (SQLite and PostgreSQL).

Every figure is checked against an independent computation: plain Python over the
rows of the cases built here, with its own working-day arithmetic (the `holidays`
package directly), never the code under test."""

from __future__ import annotations

import calendar
import statistics
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import holidays
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, select

from api.routes.dashboard import RENDERED
from tests.api.helpers import ACTION, drive, open_case
from tests.support.db_plugin import Clock
from tests.support.factories import make_case
from tests.support.world import World
from workflow.access.principal import Principal
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database
from workflow.storage.models import Action, Case, CaseDeadline, Partnership

TODAY = date(2026, 1, 15)  # the clock fixture's NOW
ONE = timedelta(days=1)
BANK = holidays.country_holidays("GB", subdiv="ENG", years=range(2023, 2028))
TAGS = {"A": ["neglect", "infants"], "C": ["neglect"], "G": ["domestic-abuse"], "H": ["infants"]}
STEPS = (
    "record_notification",
    "complete_rapid_review",
    "record_decision",
    "record_panel_response",
    "commission_reviewer",
    "agree_terms_of_reference",
    "receive_final_report",
    "send_report_to_panel",
    "publish_report",
)


def working(day: date) -> bool:
    return day.weekday() < 5 and day not in BANK


def add_wd(day: date, n: int) -> date:
    while n:
        day += timedelta(days=1)
        n -= working(day)
    return day


def wd_between(start: date, end: date) -> int:
    return sum(working(start + timedelta(days=k)) for k in range(1, (end - start).days + 1))


def plus_months(day: date, months: int) -> date:
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


def case(
    client: TestClient, aware: str, upto: int = 0, *, gaps: tuple[int, ...] = (), **kw: Any
) -> str:
    """An alpha case aware on `aware`, driven through the first `upto` STEPS; `gaps`
    (days): aware->notified, notified->rapid review sent, sent->decision,
    decision->published."""
    decision = kw.pop("decision", "local_review")
    opened = open_case(client, aware_date=aware, incident_date=aware, **kw)
    a = date.fromisoformat(aware)
    n, r, d, p = gaps or (0, 0, 0, 0)
    note, sent = a + timedelta(n), a + timedelta(n + r)
    dec = sent + timedelta(d)
    pub = dec + timedelta(p)
    extra = {"learning": "Single-agency learning."} if decision == "no_review" else {}
    bodies = [
        {"notification_date": note, "partners_informed_date": note},
        {"meeting_date": note + timedelta(1), "sent_to_panel_date": sent},
        {"decision_date": dec, "decision": decision, **extra},
        {"response_date": dec + timedelta(5)},
        {"commissioned_date": dec + timedelta(10)},
        {"agreed_date": dec + timedelta(20)},
        {"received_date": pub - timedelta(30)},
        {"sent_date": pub - timedelta(25), "planned_publication_date": pub},
        {"published_date": pub},
    ]
    steps = [(t, {k: str(v) for k, v in b.items()}) for t, b in zip(STEPS, bodies, strict=True)]
    return str(drive(client, opened, *steps[:upto])["id"])


def add_action(client: TestClient, case_id: str, **body: Any) -> str:
    url = f"/api/v1/cases/{case_id}/actions"
    plan = client.get(url).json()
    before = {a["id"] for a in plan["actions"]}
    added = client.post(url, json={**ACTION, **body}, headers={"If-Match": f'"{plan["version"]}"'})
    assert added.status_code == 201, added.text
    (new,) = {a["id"] for a in added.json()["actions"]} - before
    return str(new)


def act(client: TestClient, case_id: str, action_id: str, step: str, body: dict[str, str]) -> None:
    url = f"/api/v1/cases/{case_id}/actions"
    version = client.get(url).json()["version"]
    done = client.post(f"{url}/{action_id}/{step}", json=body, headers={"If-Match": f'"{version}"'})
    assert done.status_code == 200, done.text


@pytest.fixture
def data(
    client: TestClient, clock: Clock, database: Database, rulebooks: RulebookRegistry, world: World
) -> dict[str, str]:
    """Alpha: eight cases with varied dates (some deadlines met late, some overdue, one
    due soon, one counted from notification, one from 2024), actions and themes.
    Beta: three cases of its own."""
    ids = {
        "A": case(client, "2025-02-03", 9, gaps=(4, 10, 3, 150), local_reference="A-1"),
        "B": case(client, "2025-04-17", 9, gaps=(8, 20, 5, 200), local_reference="B-2"),
        "C": case(client, "2025-06-02", 2, gaps=(10, 12, 0, 0)),
        "D": case(client, "2025-09-01", 4, gaps=(4, 21, 4, 0), rulebook="england-panel-2025"),
        "E": case(client, "2025-12-01", local_reference="E-5"),
        "F": case(client, "2026-01-14", local_reference="F-6"),
        "G": case(client, "2025-10-06", 4, gaps=(3, 10, 2, 0), decision="no_review"),
        "H": case(client, "2024-05-01", 9, gaps=(2, 10, 2, 170), local_reference="H-8"),
    }
    for key, themes in TAGS.items():
        put = client.put(f"/api/v1/cases/{ids[key]}/themes", json={"themes": themes})
        assert put.status_code == 200, put.text
    add_action(client, ids["A"], agency="police", due_date="2025-12-01")
    signed = add_action(client, ids["A"], agency="health_icb", due_date="2026-06-01")
    add_action(client, ids["B"], agency="police", due_date="2026-03-01")
    done = add_action(client, ids["B"], agency="local_authority", due_date="2025-09-30")
    clock.now = datetime(2025, 12, 20, 12, tzinfo=UTC)
    act(
        client, ids["A"], signed, "progress", {"status": "completed_awaiting_evidence", "note": "x"}
    )
    act(client, ids["A"], signed, "sign-off", {"note": "Seen"})
    clock.now = datetime(2026, 1, 10, 12, tzinfo=UTC)
    act(client, ids["B"], done, "progress", {"status": "completed_awaiting_evidence", "note": "y"})
    clock.now = datetime(2026, 1, 15, 10, tzinfo=UTC)
    n, r = world.principals[("beta", "notifier")], world.principals[("beta", "review_group")]
    beta = Principal(n.user_id, n.username, n.grants + r.grants)
    for state in ("rapid_review", "rapid_review", "notification_due"):
        make_case(database, rulebooks, beta, state)
    return ids


def load(database: Database, codes: tuple[str, ...]) -> tuple[list[Any], list[Any], list[Any]]:
    """The rows of the partnerships' cases, their deadlines and actions."""

    def run(s: Any) -> tuple[list[Any], list[Any], list[Any]]:
        mine = select(Case.id).join(Partnership).where(Partnership.code.in_(codes))
        return (
            list(s.scalars(select(Case).where(Case.id.in_(mine)))),
            list(s.scalars(select(CaseDeadline).where(CaseDeadline.case_id.in_(mine)))),
            list(s.scalars(select(Action).where(Action.case_id.in_(mine)))),
        )

    return database.read(run)


def rr_due(c: Case) -> date:
    clock_start = c.notification_date if c.rulebook_id == "england-panel-2025" else c.aware_date
    return add_wd(clock_start, 15)


# figure -> (the fact meeting it, its due date from the case's facts)
SHARES: dict[str, tuple[str, Callable[[Case], date]]] = {
    "notifications": ("notification_date", lambda c: add_wd(c.aware_date, 5)),
    "rapid_reviews": ("rapid_review_sent_date", rr_due),
    "lcsprs": ("published_date", lambda c: plus_months(c.decision_date, 6)),
}
INTERVALS = {
    "aware_to_notification": ("aware_date", "notification_date"),
    "notification_to_rapid_review": ("notification_date", "rapid_review_sent_date"),
    "rapid_review_to_decision": ("rapid_review_sent_date", "decision_date"),
    "decision_to_publication": ("decision_date", "published_date"),
}


def expected_timeliness(cases: list[Case], start: date, end: date) -> dict[str, Any]:
    out: dict[str, Any] = {"period_start": start.isoformat(), "period_end": end.isoformat()}
    for key, (fact, due) in SHARES.items():
        met = [
            getattr(c, fact) <= due(c)
            for c in cases
            if start <= (getattr(c, fact) or end + ONE) <= end
        ]
        share = round(sum(met) / len(met), 4) if met else None
        out[key] = {"met": len(met), "on_time": sum(met), "share": share}
    out["median_working_days"] = {}
    for key, (first, last) in INTERVALS.items():
        days = [
            wd_between(getattr(c, first), getattr(c, last))
            for c in cases
            if getattr(c, first) and start <= (getattr(c, last) or end + ONE) <= end
        ]
        median = statistics.median(days) if days else None
        out["median_working_days"][key] = {"cases": len(days), "median_working_days": median}
    return out


def expected_dashboard(
    database: Database, codes: tuple[str, ...], start: date, end: date
) -> dict[str, Any]:
    cases, deadlines, actions = load(database, codes)
    pending = [d for d in deadlines if d.state == "pending"]
    until = add_wd(TODAY, 5)
    soon = sorted(
        (d for d in pending if TODAY <= d.due_date <= until),
        key=lambda d: (d.due_date, str(d.case_id), d.name),
    )
    refs = {c.id: c.local_reference for c in cases}
    live = [a for a in actions if a.status not in ("completed_signed_off", "not_achieved")]
    agencies = {a.agency: {"open": 0, "overdue": 0} for a in live}
    for a in live:
        agencies[a.agency]["open"] += 1
        agencies[a.agency]["overdue"] += a.due_date < TODAY
    items = [(str(d.case_id), refs[d.case_id], d.name, d.due_date.isoformat()) for d in soon]
    keys = ("case_id", "local_reference", "deadline", "due_date")
    return {
        "as_of": TODAY.isoformat(),
        "cases_by_stage": dict(Counter(c.stage for c in cases)),
        "overdue_deadlines": dict(Counter(d.name for d in pending if d.due_date < TODAY)),
        "due_soon": {
            "working_days": 5,
            "until": until.isoformat(),
            "count": len(soon),
            "items": [dict(zip(keys, item, strict=True)) for item in items],
        },
        "actions_by_agency": agencies,
        "timeliness": expected_timeliness(cases, start, end),
    }


def dashboard(client: TestClient, query: str = "", token: str | None = None) -> dict[str, Any]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    response = client.get(f"/api/v1/dashboard{query}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def test_every_figure_matches_an_independent_computation(
    client: TestClient, data: dict[str, str], database: Database
) -> None:
    body = dashboard(client)
    start = plus_months(TODAY, -12) + timedelta(days=1)
    assert body == {"partnership": None, **expected_dashboard(database, ("alpha",), start, TODAY)}
    # ... and what the data was built to show, by hand:
    assert body["overdue_deadlines"] == {
        "panel_notification": 1,
        "partners_informed": 1,
        "rapid_review_sent": 1,
    }
    assert [(i["local_reference"], i["deadline"]) for i in body["due_soon"]["items"]] == [
        ("F-6", "panel_notification"),
        ("F-6", "partners_informed"),
    ]
    assert body["actions_by_agency"] == {
        "police": {"open": 2, "overdue": 1},
        "local_authority": {"open": 1, "overdue": 1},
    }
    # C notified late; B and C sent their rapid review late (D on time from notification);
    # B published late.
    assert {k: (v["met"], v["on_time"]) for k, v in body["timeliness"].items() if "met" in v} == {
        "notifications": (5, 4),
        "rapid_reviews": (5, 3),
        "lcsprs": (2, 1),
    }
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    RENDERED.clear()  # computed again, not answered from memory
    event.listen(Engine, "before_cursor_execute", count)
    text = client.get("/api/v1/dashboard").text
    event.remove(Engine, "before_cursor_execute", count)
    # sign-on, the ETag change counter, then a few aggregate queries: no per-case loop
    assert 7 <= len(statements) <= 13
    assert "Child A" not in text  # no personal data
    assert "Anytown" not in text


def test_figures_answered_from_memory_follow_every_change(
    client: TestClient, data: dict[str, str], database: Database
) -> None:
    """The rendered dashboard is kept by its tag: every kind of change moves the tag,
    so the next request computes the figures again (and they match again)."""
    start = plus_months(TODAY, -12) + timedelta(days=1)

    def check() -> dict[str, Any]:
        body = dashboard(client)
        assert body == {
            "partnership": None,
            **expected_dashboard(database, ("alpha",), start, TODAY),
        }
        assert dashboard(client) == body  # the same tag: from memory, the same figures
        return body

    first = check()
    assert len(RENDERED) >= 1
    opened = case(client, "2026-01-12", 1, gaps=(1, 0, 0, 0))  # a new case, notified
    second = check()
    assert sum(second["cases_by_stage"].values()) == sum(first["cases_by_stage"].values()) + 1
    action = add_action(client, data["A"], agency="health_icb", due_date="2025-12-01")
    third = check()
    assert third["actions_by_agency"]["health_icb"] == {"open": 1, "overdue": 1}
    act(
        client,
        data["A"],
        action,
        "progress",
        {"status": "completed_awaiting_evidence", "note": "z"},
    )
    act(client, data["A"], action, "sign-off", {"note": "Seen"})
    assert "health_icb" not in check()["actions_by_agency"]
    assert opened


def test_a_period_of_your_choice(
    client: TestClient, data: dict[str, str], database: Database
) -> None:
    body = dashboard(client, "?from=2024-01-01&to=2025-06-30&partnership=alpha")
    assert body["partnership"] == "alpha"
    expected = expected_dashboard(database, ("alpha",), date(2024, 1, 1), date(2025, 6, 30))
    assert body["timeliness"] == expected["timeliness"]
    assert body["timeliness"]["lcsprs"]["met"] == 1  # H (2024); A was published in July
    for query, field in (
        ("?from=2025-06-01&to=2025-01-01", "from"),
        ("?partnership=beta", "partnership"),
        ("?partnership=nowhere", "partnership"),
        ("?from=2025-13-01", "from"),
    ):
        response = client.get(f"/api/v1/dashboard{query}")
        assert response.status_code == 422, query
        assert response.json()["errors"][0]["field"].endswith(field)


def test_partnerships_never_see_each_others_figures(
    client: TestClient, raw: TestClient, data: dict[str, str], database: Database, world: World
) -> None:
    start = plus_months(TODAY, -12) + timedelta(days=1)
    beta = dashboard(raw, token=world.token("beta", "viewer"))
    assert beta == {"partnership": None, **expected_dashboard(database, ("beta",), start, TODAY)}
    assert sum(beta["cases_by_stage"].values()) == 3
    national = dashboard(raw, token=world.national_token)
    assert national == {
        "partnership": None,
        **expected_dashboard(database, ("alpha", "beta", "gamma"), start, TODAY),
    }
    assert sum(national["cases_by_stage"].values()) == 11
    only_beta = dashboard(raw, "?partnership=beta", token=world.national_token)
    assert only_beta == {**beta, "partnership": "beta"}
    assert dashboard(raw, token=world.token("gamma", "action_owner"))["cases_by_stage"] == {}
    assert raw.get("/api/v1/dashboard").status_code == 401


def test_annual_report(
    client: TestClient, raw: TestClient, data: dict[str, str], database: Database, world: World
) -> None:
    cases, _, _ = load(database, ("alpha",))

    def in_year(day: date | None, year: int = 2025) -> bool:
        return day is not None and day.year == year

    events = ("notification_date", "decision_date", "published_date")
    of_year = {c.id for c in cases if any(in_year(getattr(c, f)) for f in events)}
    themes = Counter(t for key, ts in TAGS.items() if uuid.UUID(data[key]) in of_year for t in ts)
    report = client.get("/api/v1/reports/annual?year=2025").json()
    assert report == {
        "year": 2025,
        "partnership": None,
        "reviews_notified": sum(in_year(c.notification_date) for c in cases),
        "rapid_reviews_completed": sum(in_year(c.rapid_review_sent_date) for c in cases),
        "decisions": dict(Counter(c.decision for c in cases if in_year(c.decision_date))),
        "reviews_published": sum(in_year(c.published_date) for c in cases),
        "themes": dict(sorted(themes.items())),
        "actions": {"completed": 1, "signed_off": 1, "not_achieved": 0},  # B's completion is 2026
        "timeliness": expected_timeliness(cases, date(2025, 1, 1), date(2025, 12, 31)),
    }
    assert (report["reviews_notified"], report["decisions"], report["themes"]) == (
        5,
        {"local_review": 3, "no_review": 1},
        {"domestic-abuse": 1, "infants": 1, "neglect": 2},
    )
    earlier = client.get("/api/v1/reports/annual?year=2024").json()
    assert (earlier["reviews_published"], earlier["themes"], earlier["actions"]["signed_off"]) == (
        1,
        {"infants": 1},
        0,
    )
    csv_response = client.get("/api/v1/reports/annual.csv?year=2025&partnership=alpha")
    assert csv_response.status_code == 200
    assert csv_response.headers["content-type"].startswith("text/csv")
    assert (
        csv_response.headers["content-disposition"]
        == 'attachment; filename="annual-report-2025-alpha.csv"'
    )
    lines = csv_response.text.splitlines()
    assert lines[0] == '"figure","item","value"'
    assert '"reviews_notified","","5"' in lines
    assert '"themes","neglect","2"' in lines
    assert '"actions","signed_off","1"' in lines
    beta = raw.get("/api/v1/reports/annual?year=2025", headers=world.auth("beta", "viewer")).json()
    assert (beta["reviews_notified"], beta["themes"]) == (2, {})
    assert client.get("/api/v1/reports/annual?year=1800").status_code == 422
