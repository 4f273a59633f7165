"""The command forms derived from the registry (both databases, in-process): the case
page links exactly the actions the person may do now; a form refuses bad input with
the typed answers kept and changes nothing; good input records once, even when sent
twice; CSRF and permissions apply as in the API."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from api.web.fields import specs
from tests.support.factories import make_case
from tests.support.web import sign_in_as
from tests.support.world import World
from workflow.commands.registry import CASE_COMMANDS
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database
from workflow.storage.models import Case

_HIDDEN = re.compile(r'type="hidden" name="([^"]+)" value="([^"]*)"')
MARCH_5 = {"notification_date-day": "5", "notification_date-month": "3"}


def _signed_in(raw: TestClient, database: Database, username: str) -> None:
    assert sign_in_as(raw, database, username).status_code == 303


def _version(database: Database, case_id: uuid.UUID) -> int:
    return database.read(lambda s: s.get(Case, case_id).version)  # type: ignore[union-attr]


def _form(raw: TestClient, case_id: uuid.UUID, path: str) -> dict[str, str]:
    page = raw.get(f"/cases/{case_id}/do/{path}")
    assert page.status_code == 200, page.text
    return dict(_HIDDEN.findall(page.text))


def test_the_case_page_links_the_forms_of_what_the_person_may_do_now(
    raw: TestClient, world: World, database: Database, rulebooks: RulebookRegistry
) -> None:
    assert world.officer is not None
    case_id = make_case(database, rulebooks, world.officer, "notification_due")
    _signed_in(raw, database, "la.officer")
    page = raw.get(f"/cases/{case_id}").text
    assert f"/cases/{case_id}/do/notification" in page
    assert "Record the serious incident notification" in page
    assert "(through the API)" not in page
    assert f"/cases/{case_id}/do/decision" not in page  # not at this stage

    _signed_in(raw, database, world.username("alpha", "viewer"))
    page = raw.get(f"/cases/{case_id}").text
    assert "/do/" not in page  # a viewer gets no form
    refused = raw.get(f"/cases/{case_id}/do/notification")
    assert refused.status_code == 403
    _signed_in(raw, database, world.username("beta", "review_group"))
    assert raw.get(f"/cases/{case_id}/do/notification").status_code == 404


def test_a_form_keeps_the_answers_after_an_error_and_records_once(
    raw: TestClient, world: World, database: Database, rulebooks: RulebookRegistry
) -> None:
    assert world.officer is not None
    case_id = make_case(database, rulebooks, world.officer, "notification_due")
    _signed_in(raw, database, "la.officer")
    hidden = _form(raw, case_id, "notification")
    assert set(hidden) >= {"csrf_token", "version", "idempotency_key"}
    url = f"/cases/{case_id}/do/notification"
    bad = raw.post(
        url,
        data=hidden
        | {"notification_date-day": "31", "notification_date-month": "2"}
        | {"notification_date-year": "2025", "notification_reference": "SIN-KEPT-1"},
    )
    assert bad.status_code == 400
    assert "There is a problem" in bad.text
    assert 'href="#notification_date' in bad.text  # the summary links to the field
    assert "SIN-KEPT-1" in bad.text
    assert _version(database, case_id) == 1

    no_csrf = raw.post(
        url, data=hidden | MARCH_5 | {"csrf_token": "", "notification_date-year": "2025"}
    )
    assert no_csrf.status_code == 403
    assert _version(database, case_id) == 1

    good = hidden | MARCH_5 | {"notification_date-year": "2025"}
    done = raw.post(url, data=good, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"].startswith(f"/cases/{case_id}")
    assert _version(database, case_id) == 2
    again = raw.post(url, data=good, follow_redirects=False)  # a double click
    assert again.status_code != 500
    assert again.status_code == 303  # the replay: back to the case it changed
    assert _version(database, case_id) == 2  # recorded once


def test_every_case_command_has_a_derived_form() -> None:
    """Each command's form renders its model's fields, wherever a case can take it."""
    for command in CASE_COMMANDS:
        names = {s.key for s in specs(command)}
        assert names <= set(command.model_fields), command.trigger
        required = {n for n, f in command.model_fields.items() if f.is_required()}
        assert required <= names, command.trigger
