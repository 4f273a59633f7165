"""Learning themes over HTTP: tagging, search and summaries (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from config.settings import Settings
from tests.api.helpers import command
from tests.support.factories import BODIES, NOW, make_case
from tests.support.world import World
from workflow.access.principal import Principal
from workflow.audit import chain
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database
from workflow.storage.models import Action, AuditRecord, Recommendation

ALPHA_OWN, BETA_OWN, NAHI = "county-lines", "coastal-towns", "non-accidental-head-injury"
TODAY = date(2026, 1, 15)  # NOW in Europe/London


@pytest.fixture
def settings(db_url: str, tmp_path: Path) -> Settings:
    """The shipped taxonomy plus a theme of alpha's own and one of beta's."""
    data = yaml.safe_load(Settings().themes_file.read_text())
    data["partnerships"] = {
        code: [{"slug": slug, "label": slug.title(), "description": "Local."}]
        for code, slug in (("alpha", ALPHA_OWN), ("beta", BETA_OWN))
    }
    path = tmp_path / "themes.yaml"
    path.write_text(yaml.safe_dump(data))
    return Settings(database_url=db_url, data_dir=tmp_path, themes_file=path)


@pytest.fixture
def cases(database: Database, rulebooks: RulebookRegistry, world: World) -> dict[str, uuid.UUID]:
    """A reviewed case (report received) in alpha and one in beta, same narrative."""
    n, r = world.principals[("beta", "notifier")], world.principals[("beta", "review_group")]
    beta = Principal(n.user_id, n.username, n.grants + r.grants)
    assert world.officer is not None
    return {
        "alpha": make_case(database, rulebooks, world.officer, "pre_publication"),
        "beta": make_case(database, rulebooks, beta, "pre_publication"),
    }


def reported(
    client: TestClient,
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    recs: list[str],
) -> tuple[uuid.UUID, list[uuid.UUID]]:
    """An alpha case whose final report has `recs`, and their ids."""
    assert world.officer is not None
    case_id = make_case(database, rulebooks, world.officer, "review_in_progress")
    case = client.get(f"/api/v1/cases/{case_id}").json()
    response = command(client, case, "receive_final_report", recommendations=recs)
    assert response.status_code == 200, response.text
    return case_id, recommendations(database, case_id, recs)


def recommendations(database: Database, case_id: uuid.UUID, texts: list[str]) -> list[uuid.UUID]:
    """The case's recommendation rows (made from the report; inserted if not)."""

    def run(s: Session) -> list[uuid.UUID]:
        stmt = select(Recommendation).where(Recommendation.case_id == case_id)
        rows = list(s.scalars(stmt.order_by(Recommendation.number)))
        if not rows:
            rows = [
                Recommendation(case_id=case_id, number=n, text=t, created_at=NOW)
                for n, t in enumerate(texts, start=1)
            ]
            s.add_all(rows)
            s.flush()
        return [r.id for r in rows]

    return database.write(run)


def put(client: TestClient, path: str, themes: list[str], **headers: str) -> Any:
    response = client.put(f"/api/v1/cases/{path}/themes", json={"themes": themes}, headers=headers)
    return response.status_code, response.json()


def get(client: TestClient, path: str, **headers: str) -> Any:
    response = client.get(f"/api/v1/{path}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def audit(database: Database, action: str) -> list[AuditRecord]:
    stmt = select(AuditRecord).where(AuditRecord.action == action).order_by(AuditRecord.id)
    return database.read(lambda s: list(s.scalars(stmt)))


def test_the_taxonomy_is_the_callers(client: TestClient, raw: TestClient, world: World) -> None:
    mine = {t["slug"]: t for t in get(client, "themes")["items"]}
    assert mine["domestic-abuse"]["partnership"] is None
    assert len(mine) == 23
    assert mine[ALPHA_OWN]["partnership"] == "alpha"
    assert BETA_OWN not in mine
    national = get(raw, "themes", Authorization=f"Bearer {world.national_token}")["items"]
    assert {ALPHA_OWN, BETA_OWN} <= {t["slug"] for t in national}
    assert raw.get("/api/v1/themes").status_code == 401


def test_tagging_replaces_the_set_is_audited_and_keeps_the_version(
    client: TestClient, database: Database, cases: dict[str, uuid.UUID]
) -> None:
    case_id = cases["alpha"]
    etag = client.get(f"/api/v1/cases/{case_id}").headers["etag"]
    assert put(client, str(case_id), ["infants", "neglect", "infants"]) == (
        200,
        {
            "case_id": str(case_id),
            "subject_type": "case",
            "subject_id": str(case_id),
            "themes": ["infants", "neglect"],
        },
    )
    status, body = put(client, str(case_id), [ALPHA_OWN, "domestic-abuse"])
    assert (status, body["themes"]) == (200, [ALPHA_OWN, "domestic-abuse"])
    assert client.get(f"/api/v1/cases/{case_id}").headers["etag"] == etag
    records = audit(database, "tag_themes")
    assert [(r.chain, r.case_id, r.outcome) for r in records] == [("alpha", case_id, "ok")] * 2
    assert records[-1].detail["themes"] == [ALPHA_OWN, "domestic-abuse"]
    assert all(report.ok for report in database.read(chain.verify_all))
    rec_id = recommendations(database, case_id, [])[0]
    status, body = put(client, f"{case_id}/recommendations/{rec_id}", [NAHI])
    assert (status, body["subject_type"], body["subject_id"]) == (
        200,
        "recommendation",
        str(rec_id),
    )


def test_unknown_themes_are_refused_naming_the_field(
    client: TestClient, raw: TestClient, world: World, cases: dict[str, uuid.UUID]
) -> None:
    status, body = put(client, str(cases["alpha"]), ["infants", "not-a-theme"])
    assert status == 422
    assert body["errors"][0]["field"] == "themes.1"
    assert "valid themes: " in body["detail"]
    assert "infants" in body["detail"]
    status, body = put(client, str(cases["alpha"]), [BETA_OWN])  # beta's own theme
    assert status == 422
    assert body["errors"][0]["field"] == "themes.0"
    beta = world.auth("beta", "review_group")
    assert put(raw, str(cases["beta"]), [BETA_OWN], **beta)[0] == 200
    assert put(raw, str(cases["beta"]), [ALPHA_OWN], **beta)[0] == 422
    response = client.put(f"/api/v1/cases/{cases['alpha']}/themes", json={"themes": [], "x": 1})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "x"


def test_tagging_needs_the_permission_on_a_visible_case(
    client: TestClient,
    raw: TestClient,
    world: World,
    database: Database,
    cases: dict[str, uuid.UUID],
) -> None:
    alpha, beta = str(cases["alpha"]), str(cases["beta"])
    assert put(raw, alpha, ["neglect"], **world.auth("alpha", "viewer"))[0] == 403
    assert put(raw, alpha, ["neglect"], **world.auth("beta", "review_group"))[0] == 404
    assert put(client, beta, ["neglect"])[0] == 404
    assert put(client, str(uuid.uuid4()), ["neglect"])[0] == 404
    beta_rec = recommendations(database, cases["beta"], [])[0]
    assert put(client, f"{alpha}/recommendations/{beta_rec}", ["neglect"])[0] == 404
    assert put(client, f"{alpha}/actions/{uuid.uuid4()}", ["neglect"])[0] == 404
    outcomes = [r.outcome for r in audit(database, "tag_themes")]
    assert "refused:Forbidden" in outcomes
    assert "ok" not in outcomes


def test_search_is_scoped_and_withholds_personal_data(
    client: TestClient,
    raw: TestClient,
    world: World,
    database: Database,
    cases: dict[str, uuid.UUID],
) -> None:
    alpha, beta = cases["alpha"], cases["beta"]
    rec = recommendations(database, alpha, [])[0]
    put(client, str(alpha), [NAHI])
    put(client, f"{alpha}/recommendations/{rec}", [NAHI])
    put(raw, str(beta), [NAHI], **world.auth("beta", "review_group"))

    found = get(client, f"search?theme={NAHI}")
    assert [c["id"] for c in found["cases"]] == [str(alpha)]
    assert found["cases"][0]["themes"] == [NAHI]
    assert found["cases"][0]["partnership"] == "alpha"
    assert [(r["id"], r["number"], r["text"]) for r in found["recommendations"]] == [
        (str(rec), 1, BODIES["receive_final_report"]["recommendations"][0])
    ]
    found = get(client, "search?q=PROTOCOL%20NOT")  # the rapid review's learning
    assert [c["id"] for c in found["cases"]] == [str(alpha)]
    assert found["recommendations"] == []
    assert "Bruising protocol not followed" in found["cases"][0]["snippet"]
    found = get(client, f"search?q=bruising%20protocol&theme={NAHI}")
    assert len(found["cases"]) == 1
    assert len(found["recommendations"]) == 1
    assert get(client, "search?q=%25") == {"cases": [], "recommendations": []}  # "%" escaped
    assert get(client, f"search?theme={NAHI}&q=systemic%20analysis")["cases"] == []

    # Text search looks inside narrative: only where the caller may read it. Roles
    # without personal-data rights search by theme, and get no snippets or text.
    viewer = get(raw, "search?q=bruising", **world.auth("alpha", "viewer"))
    assert viewer == {"cases": [], "recommendations": []}
    by_theme = get(raw, f"search?theme={NAHI}", **world.auth("alpha", "viewer"))
    assert [c["id"] for c in by_theme["cases"]] == [str(alpha)]
    assert by_theme["cases"][0]["snippet"] is None
    assert by_theme["recommendations"][0]["text"] is None
    others = get(raw, "search?q=bruising", **world.auth("beta", "review_group"))
    assert [c["id"] for c in others["cases"]] == [str(beta)]
    token = {"Authorization": f"Bearer {world.national_token}"}
    assert get(raw, "search?q=bruising", **token) == {"cases": [], "recommendations": []}
    national = get(raw, f"search?theme={NAHI}", **token)
    assert {c["id"] for c in national["cases"]} == {str(alpha), str(beta)}
    assert all(c["snippet"] is None for c in national["cases"])
    assert {r.actor for r in audit(database, "search_learning")} == {
        "la.officer",
        "beta-review_group",
    }

    for query, field in (("", "q"), ("?theme=nope", "theme"), (f"?theme={BETA_OWN}", "theme")):
        response = client.get(f"/api/v1/search{query}")
        assert response.status_code == 422
        assert response.json()["errors"][0]["field"] == field


def test_recommendations_recur_across_two_cases_not_within_one(
    client: TestClient,
    raw: TestClient,
    world: World,
    database: Database,
    rulebooks: RulebookRegistry,
) -> None:
    a, (a1, a2) = reported(
        client,
        database,
        rulebooks,
        world,
        ["Refresh the bruising protocol.", "Train staff on infant bruising"],
    )
    b, (b1, _) = reported(
        client,
        database,
        rulebooks,
        world,
        ["refresh the  Bruising-protocol", "Review the escalation policy"],
    )
    c, (c1, c2) = reported(
        client, database, rulebooks, world, ["Promote safer sleep", "promote safer sleep!"]
    )
    for case_id, rec, theme in ((a, a1, NAHI), (a, a2, NAHI), (b, b1, NAHI)):
        assert put(client, f"{case_id}/recommendations/{rec}", [theme])[0] == 200
    for rec in (c1, c2):
        assert put(client, f"{c}/recommendations/{rec}", ["safer-sleep"])[0] == 200

    summary = get(client, f"learning/themes/{NAHI}")
    assert (summary["counts"]["recommendations"], summary["counts"]["recommendation_cases"]) == (
        3,
        2,
    )
    first, second = summary["recurring_recommendations"]
    assert first["text"] in ("Refresh the bruising protocol.", "refresh the  Bruising-protocol")
    assert sorted(first["case_ids"]) == sorted([str(a), str(b)])
    assert sorted(first["recommendation_ids"]) == sorted([str(a1), str(b1)])
    assert second["case_ids"] == [str(a)]
    safer = get(client, "learning/themes/safer-sleep")
    assert safer["counts"]["recommendations"] == 2
    assert safer["recurring_recommendations"] == []
    viewer = get(raw, f"learning/themes/{NAHI}", **world.auth("alpha", "viewer"))
    assert [g["text"] for g in viewer["recurring_recommendations"]] == [None, None]
    assert client.get("/api/v1/learning/themes/nope").status_code == 422


def test_open_and_overdue_actions_per_theme(
    client: TestClient,
    raw: TestClient,
    world: World,
    database: Database,
    cases: dict[str, uuid.UUID],
) -> None:
    statuses = [
        "not_started",
        "in_progress",
        "completed_awaiting_evidence",
        "completed_signed_off",
        "not_achieved",
    ]
    # (case, status, due in days, of the tagged recommendation, tagged itself)
    rows = [(c, s, d, True, False) for c in ("alpha", "beta") for s in statuses for d in (-9, 0, 7)]
    rows += [
        ("alpha", "not_started", -3, False, True),
        ("alpha", "in_progress", -3, True, True),
        ("alpha", "not_started", -5, False, False),
    ]  # the last is not about neglect

    def insert(s: Session) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
        tagged_recs, tagged_actions = [], []
        for case in ("alpha", "beta"):
            recs = [
                Recommendation(case_id=cases[case], number=n, text=f"Rec {n}", created_at=NOW)
                for n in (90, 91)
            ]
            s.add_all(recs)
            s.flush()
            tagged_recs.append(recs[0].id)
            for _, status, days, via_rec, direct in (r for r in rows if r[0] == case):
                action = Action(
                    id=uuid.uuid4(),
                    case_id=cases[case],
                    recommendation_id=recs[not via_rec].id,
                    description="Do it",
                    agency="police",
                    owner="Head of service",
                    due_date=TODAY + timedelta(days),
                    status=status,
                    created_at=NOW,
                    updated_at=NOW,
                )
                s.add(action)
                tagged_actions += [action.id] if direct else []
        return tagged_recs, tagged_actions

    tagged_recs, tagged_actions = database.write(insert)
    for case, rec in zip(("alpha", "beta"), tagged_recs, strict=True):
        caller, headers = (
            (client, {}) if case == "alpha" else (raw, world.auth(case, "review_group"))
        )
        assert put(caller, f"{cases[case]}/recommendations/{rec}", ["neglect"], **headers)[0] == 200
        assert put(caller, str(cases[case]), ["neglect"], **headers)[0] == 200
    for action_id in tagged_actions:
        assert put(client, f"{cases['alpha']}/actions/{action_id}", ["neglect"])[0] == 200

    def expected(*of: str) -> dict[str, int]:
        counted = [r for r in rows if r[0] in of and (r[3] or r[4])]
        open_ = [r for r in counted if r[1] not in ("completed_signed_off", "not_achieved")]
        return {"open_actions": len(open_), "overdue_actions": sum(1 for r in open_ if r[2] < 0)}

    alpha = get(client, "learning/themes/neglect")
    assert alpha["as_of"] == TODAY.isoformat()
    assert {k: alpha["counts"][k] for k in ("open_actions", "overdue_actions")} == expected("alpha")
    assert (alpha["counts"]["cases"], alpha["counts"]["recommendations"]) == (1, 1)
    items = {i["theme"]["slug"]: i for i in get(client, "learning/summary")["items"]}
    assert items["neglect"] == alpha["counts"]
    assert items["infants"]["open_actions"] == 0
    national = get(raw, "learning/summary", Authorization=f"Bearer {world.national_token}")
    neglect = next(i for i in national["items"] if i["theme"]["slug"] == "neglect")
    assert {k: neglect[k] for k in expected()} == expected("alpha", "beta")
    assert neglect["cases"] == 2
