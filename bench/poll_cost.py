"""What a poll costs: `GET /cases/{id}` answered 304 (matching If-None-Match) against
the full 200. Not a test. In-process (Starlette TestClient, no network), on a fresh
migrated SQLite database in a temporary directory (or --database-url, e.g. an empty
PostgreSQL database). The case is driven to `review_in_progress` so its body has
stage records and deadlines; the first caller sees personal data, so each of its
200s also writes an audit record (as in production); a summary-only caller is
measured too, and `GET /me` (authentication alone: the floor of any request).

    .venv/bin/python bench/poll_cost.py [-n 500] [--database-url URL]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeAlias

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from api.main import create_app  # noqa: E402
from config.settings import Settings  # noqa: E402
from tests.support.factories import BODIES, incident  # noqa: E402
from workflow.access import accounts  # noqa: E402
from workflow.access.account_audit import Actor  # noqa: E402
from workflow.runtime import open_database  # noqa: E402
from workflow.storage import migrate  # noqa: E402

Request: TypeAlias = tuple[str, dict[str, str], int]  # path, headers, expected status
STEPS = {
    "record_notification": "notification",
    "complete_rapid_review": "rapid-review",
    "record_decision": "decision",
    "record_panel_response": "panel-response",
    "commission_reviewer": "reviewer",
    "agree_terms_of_reference": "terms-of-reference",
}


def tokens(settings: Settings) -> tuple[str, str]:
    """A notifier + review group (personal data) and a viewer (summary) of one partnership."""
    now = datetime.now(UTC)

    def run(s: Session) -> tuple[str, str]:
        by = Actor("bench", "bench")
        partnership = accounts.create_partnership(s, "bench", "Bench partnership", now, by=by)
        out = []
        for name, roles in (("officer", ("notifier", "review_group")), ("viewer", ("viewer",))):
            user = accounts.create_user(s, name, name, now, by=by)
            for role in roles:
                accounts.grant_role(s, user, partnership, role, now=now, by=by)
            out.append(accounts.create_token(s, user, "bench", now, by=by).secret)
        return out[0], out[1]

    database = open_database(settings)
    try:
        return database.write(run)
    finally:
        database.dispose()


def timed(client: TestClient, requests: dict[str, Request], n: int) -> dict[str, list[float]]:
    """Seconds per request, n of each, interleaved (so that load elsewhere on the machine
    weighs on every kind alike), after 20 warm-up rounds."""
    samples: dict[str, list[float]] = {label: [] for label in requests}
    for i in range(n + 20):
        for label, (path, headers, status) in requests.items():
            started = time.perf_counter()
            response = client.get(path, headers=headers)
            elapsed = time.perf_counter() - started
            assert response.status_code == status, response.text
            if i >= 20:
                samples[label].append(elapsed)
    return samples


def measure(client: TestClient, path: str, token: str, n: int) -> str:
    headers = {"Authorization": f"Bearer {token}"}
    tag = client.get(path, headers=headers).headers["etag"]
    samples = timed(
        client,
        {
            "200": (path, headers, 200),
            "304": (path, {**headers, "If-None-Match": tag}, 304),
            "me": ("/api/v1/me", headers, 200),
        },
        n,
    )
    mean = {k: statistics.fmean(v) * 1000 for k, v in samples.items()}
    median = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    return (
        f"mean 200 {mean['200']:6.2f} ms, 304 {mean['304']:6.2f} ms "
        f"(304/200 = {mean['304'] / mean['200']:.2f}); "
        f"median 200 {median['200']:6.2f}, 304 {median['304']:6.2f} "
        f"({median['304'] / median['200']:.2f}); GET /me {mean['me']:6.2f} ms"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("-n", type=int, default=500)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="casereview-poll-"))
    url = args.database_url or f"sqlite:///{data / 'bench.db'}"
    try:
        migrate.upgrade(url)
        settings = Settings(database_url=url, data_dir=data, rate_limit_requests=10**9)
        officer, viewer = tokens(settings)
        with TestClient(create_app(settings)) as client:
            auth = {"Authorization": f"Bearer {officer}"}
            case = client.post("/api/v1/incidents", json=incident(), headers=auth).json()
            for trigger, action in STEPS.items():
                moved = client.post(
                    f"/api/v1/cases/{case['id']}/{action}",
                    json=BODIES[trigger],
                    headers={**auth, "If-Match": f'"{case["version"]}"'},
                )
                assert moved.status_code == 200, moved.text
                case = moved.json()
            path = f"/api/v1/cases/{case['id']}"
            backend = url.split(":", 1)[0]
            print(f"case {case['state']} v{case['version']}, n={args.n} of each, {backend}")
            print(f"personal: {measure(client, path, officer, args.n)}")
            print(f"summary:  {measure(client, path, viewer, args.n)}")
    finally:
        shutil.rmtree(data, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
