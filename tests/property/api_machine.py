"""The HTTP side of the property tests: commands sent with If-Match and
Idempotency-Key through the real app (TestClient), the invariants read back from
GET /cases/{id} and /timeline (and the audit trail from the database)."""

from __future__ import annotations

import itertools
import re
import uuid
from datetime import date, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from httpx import Response

from api.replays import IDEMPOTENCY_TTL
from tests.property import observe, oracle
from tests.property.bodies import command_body
from tests.property.crew import Crew, make_crew
from tests.support.db_plugin import Clock
from workflow.commands.registry import PATH_OF_TRIGGER
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database

REFUSED = {403, 404, 409, 412, 422, 428}
_keys = itertools.count(1)


def version_of(etag: str) -> int:
    found = re.match(r'^"(\d+)', etag)
    assert found, f"not a case ETag: {etag!r}"
    return int(found.group(1))


class ApiWorld:
    def __init__(
        self, http: TestClient, database: Database, rulebooks: RulebookRegistry, clock: Clock
    ) -> None:
        self.http, self.db, self.rulebooks, self.clock = http, database, rulebooks, clock
        self.crew: Crew = make_crew(database)
        self.versions: dict[str, int] = {}
        self.finals: set[str] = set()
        # successful requests, to replay: (sent at, actor, path, body, key, response)
        self.sent: list[tuple[datetime, str, str, dict[str, Any], str, Response]] = []
        self.successes = self.refusals = self.replays = 0

    @property
    def today(self) -> date:
        return self.clock.now.date()

    def get(self, case_id: str, actor: str = "viewer") -> Response:
        """The case as `actor` sees it: by default a viewer, whose reads (no personal
        data) are not audited, so checking does not grow the audit trail."""
        response = self.http.get(f"/api/v1/cases/{case_id}", headers=self.crew.auth(actor))
        assert response.status_code == 200, response.text
        return response

    def post(
        self, actor: str, path: str, body: dict[str, Any], key: str, if_match: str | None
    ) -> Response:
        headers = {**self.crew.auth(actor), "Idempotency-Key": key}
        if if_match is not None:
            headers["If-Match"] = if_match
        response = self.http.post(path, json=body, headers=headers)
        assert response.status_code < 500, f"{path}: {response.status_code} {response.text}"
        assert response.status_code in {200, 201} | REFUSED, response.text
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/problem+json")
        return response

    def open(self, actor: str, body: dict[str, Any], valid: bool, replay: bool) -> str | None:
        key = f"props-open-{next(_keys):06d}"
        response = self.post(actor, "/api/v1/incidents", body, key, None)
        if response.status_code != 201:
            assert not valid, f"a valid incident was refused: {response.text}"
            self.refusals += 1
            return None
        assert valid, f"an invalid incident was accepted: {body}"
        case_id: str = response.json()["id"]
        assert response.headers["etag"] == '"1"'
        self.successes += 1
        self.versions[case_id] = 1
        self.sent.append((self.clock.now, actor, "/api/v1/incidents", body, key, response))
        if replay:
            self._replay(len(self.sent) - 1)
        return case_id

    def command(
        self,
        case_id: str,
        trigger: str,
        actor: str,
        offset: int,
        variant: int,
        if_match: str,  # "current", "stale" or "none"
        replay: bool,
    ) -> None:
        before = self.get(case_id)
        version = version_of(before.headers["etag"])
        facts = {k: _as_date(v) for k, v in before.json()["facts"].items()}
        body = command_body(
            trigger, facts, self.today, offset, variant, self.crew.usernames["reviewer"]
        )
        sent_version = {"current": version, "stale": max(version - 1, 0), "none": None}[if_match]
        path = f"/api/v1/cases/{case_id}/{PATH_OF_TRIGGER[trigger]}"
        key = f"props-cmd-{next(_keys):06d}"
        tag = None if sent_version is None else f'"{sent_version}"'
        response = self.post(actor, path, body, key, tag)
        after = self.get(case_id)
        if response.status_code != 200:
            self.refusals += 1
            assert after.headers["etag"] == before.headers["etag"], "a refused command changed it"
            assert _stable(after.json()) == _stable(before.json())
            if if_match == "stale" and actor in ("review_group", "notifier"):
                assert response.status_code in (403, 412), response.text
            if if_match == "none":
                assert response.status_code in (403, 404, 428), response.text
            return
        assert if_match == "current", f"{trigger} succeeded with If-Match {tag}"
        assert response.headers["etag"] == f'"{version + 1}"'
        assert version_of(after.headers["etag"]) == version + 1
        assert response.json()["state"] == after.json()["state"]
        self.successes += 1
        self.versions[case_id] = version + 1
        self.sent.append((self.clock.now, actor, path, body, key, response))
        if replay:
            self._replay(len(self.sent) - 1)

    def _replay(self, index: int) -> None:
        """Send an earlier successful request again, same key and If-Match: the first
        answer comes back, marked as a replay, and nothing changes."""
        _at, actor, path, body, key, first = self.sent[index]
        if_match = None if path.endswith("/incidents") else first.request.headers["if-match"]
        cases = {c: self.get(c).headers["etag"] for c in self.versions}
        listed = self._listed()
        again = self.post(actor, path, body, key, if_match)
        self.replays += 1
        assert again.status_code == first.status_code, again.text
        assert again.headers.get("idempotent-replayed") == "true"
        assert again.json() == first.json()
        assert again.headers["etag"] == first.headers["etag"]
        assert {c: self.get(c).headers["etag"] for c in self.versions} == cases
        assert self._listed() == listed, "a replay opened another case"

    def _listed(self) -> list[str]:
        page = self.http.get("/api/v1/cases?limit=200", headers=self.crew.auth("viewer"))
        assert page.status_code == 200, page.text
        return sorted(item["id"] for item in page.json()["items"])

    def replay_old(self, pick: int) -> None:
        """Replay an earlier success whose key has not expired (IDEMPOTENCY_TTL): after
        that a retry is a new request, by design."""
        live = [i for i, sent in enumerate(self.sent) if self.clock.now - sent[0] < IDEMPOTENCY_TTL]
        if live:
            self._replay(live[pick % len(live)])

    def check(self) -> None:
        for case_id, version in self.versions.items():
            self._check_case(case_id, version)
        report = self.http.get("/api/v1/audit/verification", headers=self.crew.auth("admin"))
        assert report.status_code == 200, report.text
        assert report.json()["ok"], report.json()

    def _check_case(self, case_id: str, version: int) -> None:
        shown = self.get(case_id)
        case = shown.json()
        assert version_of(shown.headers["etag"]) == version == case["version"]
        rulebook = self.rulebooks.get(case["rulebook"]["id"], case["rulebook"]["version"])
        final = {s.name for s in rulebook.states if s.final}
        assert case["state"] in {s.name for s in rulebook.states}
        if case_id in self.finals:
            assert case["state"] in final, f"left a final state for {case['state']}"
        if case["state"] in final:
            self.finals.add(case_id)
        timeline = self.http.get(
            f"/api/v1/cases/{case_id}/timeline", headers=self.crew.auth("viewer")
        ).json()["items"]
        assert [e["sequence"] for e in timeline] == list(range(1, version + 1))
        assert timeline[-1]["to_state"] == case["state"]
        for prev, event in zip([None, *timeline], timeline, strict=False):
            source = prev["to_state"] if prev else "start"
            assert (event["from_state"] or "start") == source
            if event["event_type"] in PATH_OF_TRIGGER or event["event_type"] == "log_incident":
                assert observe.allowed(rulebook, event["event_type"], source, event["to_state"])
        seen = self.db.read(lambda s: observe.see(s, uuid.UUID(case_id)))
        assert len(seen.ok_audits) == version, "one audit record per change"
        deadlines = {d["name"]: d for d in case["deadlines"]}
        facts = {k: _as_date(v) for k, v in case["facts"].items()}
        for rule in oracle.MAIN_DEADLINES[rulebook.id]:
            want = oracle.expected(
                rule, state=case["state"], facts=facts, today=self.today, partnership=self.crew.code
            )
            got = deadlines.get(rule.name)
            if want.state == "not_applicable":
                assert got is None, (rule.name, got)
                continue
            assert got is not None, (rule.name, want)
            assert got["state"] == want.state, (rule.name, got["explanation"], want)
            assert _as_date(got["due_date"]) == want.due, (rule.name, got["explanation"], want)


def _as_date(value: Any) -> Any:
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return date.fromisoformat(value)
    return value


def _stable(case: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in case.items() if k not in ("deadlines", "allowed_actions")}


__all__ = ["ApiWorld", "timedelta"]
