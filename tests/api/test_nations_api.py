"""The nations over HTTP, on the web page and on the command line: the four nations'
rulebooks are listed, drawn and speak their nation's words; a partnership's nation is
set by `casereview partnerships add --nation`, shown by /me and picks its rulebook."""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from api.cli import main
from api.main import create_app
from config.settings import Settings, get_settings
from tests.api.helpers import open_case
from tests.support.web import PASSWORD, sign_in, sign_in_as
from tests.support.world import World
from workflow.storage.database import Database

NATION_BOOKS = {
    "wales-cpr-2012": ("wales", "england-and-wales", "child practice review"),
    "wales-susr-2024": ("wales", "england-and-wales", "single unified safeguarding review"),
    "scotland-learning-review-2021": ("scotland", "scotland", "learning review"),
    "northern-ireland-cmr-2012": ("northern_ireland", "northern-ireland", "case management review"),
}
WORDS = {
    "wales": ("Regional Safeguarding Board", "Welsh Government"),
    "scotland": ("Child Protection Committee", "Care Inspectorate"),
    "northern_ireland": (
        "Safeguarding Board for Northern Ireland (SBNI)",
        "SBNI Case Management Review Panel",
    ),
}


def test_the_nations_rulebooks_are_listed_with_their_calendars(client: TestClient) -> None:
    listed = {r["id"]: r for r in client.get("/api/v1/rulebooks").json()["items"]}
    for rulebook_id, (nation, calendar, _review) in NATION_BOOKS.items():
        assert (listed[rulebook_id]["nation"], listed[rulebook_id]["calendar"]) == (
            nation,
            calendar,
        )


@pytest.mark.parametrize("rulebook_id", NATION_BOOKS)
def test_a_nations_rulebook_speaks_its_words_and_is_drawn(
    client: TestClient, rulebook_id: str
) -> None:
    nation, _calendar, review = NATION_BOOKS[rulebook_id]
    rb = client.get(f"/api/v1/rulebooks/{rulebook_id}").json()
    words = rb["vocabulary"]
    assert (words["board"], words["national_body"]) == WORDS[nation]
    assert words["review"] == rb["review_name"] == review
    assert {d["kind"] for d in rb["deadlines"]} == {"expectation"}
    diagram = client.get(f"/api/v1/rulebooks/{rulebook_id}/diagram")
    assert diagram.status_code == 200
    assert diagram.text.startswith(f"stateDiagram-v2\n    %% {rulebook_id} v1:")
    assert diagram.text == rb["mermaid"]


def test_the_rulebook_page_shows_the_nations_words(
    raw: TestClient, world: World, database: Database
) -> None:
    signed = sign_in_as(raw, database, "la.officer")
    assert signed.status_code == 303
    page = raw.get("/rulebooks/scotland-learning-review-2021")
    assert page.status_code == 200
    for words in ("Child Protection Committee", "Care Inspectorate", "Learning review"):
        assert words in page.text
    assert "a local expectation: the guidance gives no number; never overdue" in page.text
    english = raw.get("/rulebooks/england-2023").text
    assert "Child Safeguarding Practice Review Panel" in english
    assert "Care Inspectorate" not in english


def test_an_english_partnership_cannot_open_a_welsh_case(client: TestClient) -> None:
    response = client.post(
        "/api/v1/incidents",
        json={
            "incident_date": "2025-03-01",
            "aware_date": "2025-03-03",
            "location": "Family home",
            "criteria": {"nature": "death", "abuse_or_neglect": "suspected", "child_age_years": 3},
            "children": [{"pseudonym": "Child A"}],
            "case_outline": "Outline.",
            "rulebook": "wales-susr-2024",
        },
    )
    assert response.status_code == 422
    problem = response.json()
    assert problem["errors"][0]["field"] == "rulebook"
    assert "wales" in problem["detail"]
    assert "england" in problem["detail"]
    assert open_case(client)["rulebook"]["id"] == "england-2023"  # its nation's default


@pytest.fixture
def cli_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


def test_partnerships_add_sets_the_nation_which_picks_the_rulebook(
    cli_env: Settings, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert main(["setup", "--admin", "root", "--partnership", "north"]) == 0
    assert main(["partnerships", "add", "alba", "--name", "Alba CPC", "--nation", "scotland"]) == 0
    assert main(["partnerships", "add", "cymru", "--name", "Cymru", "--nation", "wales"]) == 0
    # Wales counts on England and Wales's bank holidays; another division is refused.
    assert (
        main(
            [
                "partnerships",
                "add",
                "x",
                "--name",
                "X",
                "--nation",
                "wales",
                "--division",
                "scotland",
            ]
        )
        == 2
    )
    assert "england-and-wales" in capsys.readouterr().err
    assert main(["partnerships", "list"]) == 0
    listed = {line.split()[0]: line.split()[1:3] for line in capsys.readouterr().out.splitlines()}
    assert listed["alba"] == ["scotland", "scotland"]
    assert listed["cymru"] == ["wales", "england-and-wales"]
    assert listed["north"] == ["england", "england-and-wales"]
    assert "x" not in listed

    assert main(["users", "add", "sw", "--partnership", "alba", "--role", "notifier"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "set-password", "sw", "--password-stdin"]) == 0
    assert main(["tokens", "create", "sw"]) == 0
    token = next(w for w in capsys.readouterr().out.split() if w.startswith("crt_"))
    with TestClient(create_app(cli_env)) as c:
        auth = {"Authorization": f"Bearer {token}"}
        me = c.get("/api/v1/me", headers=auth).json()
        assert [(m["partnership"], m["nation"]) for m in me["memberships"]] == [
            ("alba", "scotland")
        ]
        opened = c.post(
            "/api/v1/incidents",
            headers=auth,
            json={
                "incident_date": "2025-03-01",
                "aware_date": "2025-03-03",
                "location": "Family home",
                "criteria": {
                    "nature": "death",
                    "abuse_or_neglect": "suspected",
                    "child_age_years": 3,
                },
                "children": [{"pseudonym": "Child A"}],
                "case_outline": "Outline.",
            },
        )
        assert opened.status_code == 201, opened.text
        case = opened.json()
        assert case["rulebook"]["id"] == "scotland-learning-review-2021"
        assert case["state"] == "notification_due"
        shown = {
            d["name"]: d
            for d in c.get(f"/api/v1/cases/{case['id']}", headers=auth).json()["deadlines"]
        }
        assert shown["notification_to_cpc"]["kind"] == "expectation"
        assert shown["notification_to_cpc"]["rag"] is None
        # The case page says "expected by", with no red/amber/green tag.
        assert sign_in(c, "sw", PASSWORD).status_code == 303
        page = c.get(f"/cases/{case['id']}").text
        assert "Expected by Mon 10 Mar 2025" in page  # aware Mon 3 Mar + 5 working days
        assert "tag--red" not in page
