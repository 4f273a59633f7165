"""Four `casereview serve` worker processes on one PostgreSQL database: fifty
conflicting commands on one case over HTTP, exactly one wins."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select

from config.settings import Settings
from tests.chaos.server import ServerProcess
from tests.support.factories import BODIES, make_case
from tests.support.world import build_world
from workflow.commands.registry import PATH_OF_TRIGGER
from workflow.runtime import load_rulebooks, open_database
from workflow.storage.models import Case, CaseEvent

CONCURRENT = 50


def test_fifty_conflicting_commands_across_four_workers(pg_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=pg_url, data_dir=tmp_path)
    database = open_database(settings)
    world = build_world(database)
    case_id = make_case(database, load_rulebooks(settings), world.officer, "decision_due")
    database.dispose()
    url = f"/api/v1/cases/{case_id}/{PATH_OF_TRIGGER['record_decision']}"
    headers = {"Authorization": f"Bearer {world.officer_token}", "If-Match": '"3"'}
    barrier = threading.Barrier(CONCURRENT)
    statuses: list[int] = []
    lock = threading.Lock()

    with ServerProcess(pg_url, tmp_path, workers=4) as server:

        def act(i: int) -> None:
            decision = ["local_review", "national_review_recommended"][i % 2]
            body = {**BODIES["record_decision"], "decision": decision}
            with httpx.Client(base_url=server.base_url, timeout=30) as http:
                barrier.wait()
                status = http.post(url, json=body, headers=headers).status_code
            with lock:
                statuses.append(status)

        threads = [threading.Thread(target=act, args=(i,)) for i in range(CONCURRENT)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=60)

    assert len(statuses) == CONCURRENT
    assert sum(200 <= s < 300 for s in statuses) == 1, statuses
    assert set(statuses) <= {200, 409, 412}, statuses
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        events = (
            conn.execute(select(CaseEvent.event_type).where(CaseEvent.case_id == case_id))
            .scalars()
            .all()
        )
        version = conn.execute(select(Case.version).where(Case.id == case_id)).scalar_one()
    engine.dispose()
    assert events.count("record_decision") == 1
    assert version == 4
