"""A write that committed but whose answer never reached the client (the connection
broke on the way back): re-sent with its Idempotency-Key it is replayed, not repeated."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import httpx
from sqlalchemy import Engine, create_engine, func, select

from tests.chaos.server import ServerProcess
from tests.chaos.setup import seed
from tests.support.factories import incident
from tests.support.tcp_proxy import TcpProxy
from workflow.storage.models import Case


def _cases(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Case)).scalar_one())


def test_an_answer_lost_after_commit_is_replayed(pg_url: str, tmp_path: Path) -> None:
    token = seed(pg_url)
    engine = create_engine(pg_url)
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": "lost-answer-0001"}
    with (
        ServerProcess(pg_url, tmp_path) as server,
        TcpProxy("127.0.0.1", server.port) as proxy,
    ):
        url = f"http://127.0.0.1:{proxy.port}/api/v1/incidents"
        outcome: list[object] = []

        def send() -> None:
            try:
                outcome.append(httpx.post(url, json=incident(), headers=headers, timeout=30))
            except httpx.TransportError as exc:
                outcome.append(exc)

        proxy.latency = 2.0  # the answer waits in the proxy after the commit
        sender = threading.Thread(target=send)
        sender.start()
        deadline = time.monotonic() + 30
        while _cases(engine) == 0:
            assert time.monotonic() < deadline, "the incident was never committed"
            time.sleep(0.05)
        proxy.cut()  # committed; now the answer is lost
        sender.join(timeout=30)
        assert isinstance(outcome[0], httpx.TransportError), outcome
        proxy.heal()
        again = httpx.post(url, json=incident(), headers=headers, timeout=30)
    assert again.status_code == 201, again.text
    assert again.headers["idempotent-replayed"] == "true"
    assert _cases(engine) == 1
    engine.dispose()
