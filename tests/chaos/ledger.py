"""Crash test: commands with Idempotency-Keys against two `casereview serve` processes
(two ports, one PostgreSQL database; clients move to the other on a failure, as behind
a load balancer), a ledger of every acknowledged (2xx) write, and a killer that SIGKILLs
a server's whole process group and restarts it, again and again, in turn.

Afterwards: every acknowledged write is in the database (its timeline event at its
version), every case's timeline and audit records agree, `casereview audit verify`
passes, and re-sending each request still unacknowledged, with its key, creates no
duplicate (no extra case, no second event).

    python -m tests.chaos.ledger --seconds 300 --kills 20     # also: make chaos
(without --database-url it starts a throwaway PostgreSQL cluster of its own).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import create_engine, func, select

from tests.chaos.checks import check_database
from tests.chaos.server import REPO_ROOT, ServerProcess
from tests.chaos.setup import prepared_database
from tests.support.factories import BODIES, LCSPR_PATH, incident
from workflow.commands.registry import PATH_OF_TRIGGER
from workflow.storage.models import Case, CaseEvent

STEPS = LCSPR_PATH[:4]  # notification .. panel response: 5 writes per case with the incident


@dataclass
class Request:
    key: str
    path: str
    body: dict[str, Any]
    if_match: str | None
    trigger: str
    case_id: str | None = None  # None for a new incident until it is acknowledged


@dataclass
class Ledger:
    acknowledged: dict[str, tuple[str, int, str]] = field(default_factory=dict)  # key -> ...
    unacknowledged: dict[str, Request] = field(default_factory=dict)
    sent: int = 0
    ambiguous: int = 0  # sent, then the connection broke: outcome unknown to the client
    replays: int = 0
    refused: int = 0  # 503s and connections refused while the server was down
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


@dataclass
class Report:
    seconds: float
    kills: int
    sent: int
    acknowledged: int
    found: int
    ambiguous: int
    replays: int
    resent: int
    cases: int
    create_keys: int
    problems: list[str]

    def table(self) -> str:
        rows = [
            ("duration (s)", f"{self.seconds:.0f}"),
            ("SIGKILLs of a server process group", self.kills),
            ("requests sent (with retries)", self.sent),
            ("writes acknowledged (2xx)", self.acknowledged),
            ("acknowledged writes found", self.found),
            ("ambiguous (connection lost after send)", self.ambiguous),
            ("idempotent replays seen", self.replays),
            ("unacknowledged re-sent at the end", self.resent),
            ("cases / distinct creating keys", f"{self.cases} / {self.create_keys}"),
            ("problems", len(self.problems)),
        ]
        return "\n".join(f"{name:42} {value}" for name, value in rows)


def _send(http: httpx.Client, req: Request, ledger: Ledger) -> httpx.Response | None:
    headers = {"Idempotency-Key": req.key}
    if req.if_match:
        headers["If-Match"] = req.if_match
    with ledger.lock:
        ledger.sent += 1
    try:
        response = http.post(req.path, json=req.body, headers=headers)
    except httpx.ConnectError:
        with ledger.lock:
            ledger.refused += 1
        return None
    except httpx.TransportError:  # sent, but no answer: the server died meanwhile
        with ledger.lock:
            ledger.ambiguous += 1
        return None
    if response.status_code == 503:
        with ledger.lock:
            ledger.refused += 1
        return None
    return response


def _acknowledge(ledger: Ledger, req: Request, response: httpx.Response) -> tuple[str, int] | None:
    if not 200 <= response.status_code < 300:
        with ledger.lock:
            ledger.problems.append(
                f"{req.trigger} {req.key}: {response.status_code} {response.text[:200]}"
            )
        return None
    body = response.json()
    case_id, version = str(body["id"]), int(body["version"])
    with ledger.lock:
        ledger.acknowledged[req.key] = (case_id, version, req.trigger)
        ledger.unacknowledged.pop(req.key, None)
        if response.headers.get("idempotent-replayed") == "true":
            ledger.replays += 1
    return case_id, version


class Balancer:
    """One client's connections to every server; a failed attempt moves to the next
    server, as a load balancer would."""

    def __init__(self, base_urls: list[str], token: str, timeout: float = 10) -> None:
        auth = {"Authorization": f"Bearer {token}"}
        self.clients = [httpx.Client(base_url=u, headers=auth, timeout=timeout) for u in base_urls]
        self.current = 0

    def send(self, req: Request, ledger: Ledger) -> httpx.Response | None:
        response = _send(self.clients[self.current], req, ledger)
        if response is None:
            self.current = (self.current + 1) % len(self.clients)
        return response

    def close(self) -> None:
        for client in self.clients:
            client.close()


def _until_acknowledged(
    http: Balancer, req: Request, ledger: Ledger, stop: threading.Event
) -> tuple[str, int] | None:
    """Send, and re-send with the same key until a 2xx (or the run ends)."""
    with ledger.lock:
        ledger.unacknowledged[req.key] = req
    while not stop.is_set():
        response = http.send(req, ledger)
        if response is not None:
            return _acknowledge(ledger, req, response)
        time.sleep(0.1)
    return None


def _client_loop(base_urls: list[str], token: str, ledger: Ledger, stop: threading.Event) -> None:
    http = Balancer(base_urls, token)
    try:
        while not stop.is_set():
            create = Request(
                uuid.uuid4().hex, "/api/v1/incidents", incident(), None, "log_incident"
            )
            acked = _until_acknowledged(http, create, ledger, stop)
            if acked is None:
                return
            case_id, version = acked
            for trigger in STEPS:
                path = f"/api/v1/cases/{case_id}/{PATH_OF_TRIGGER[trigger]}"
                req = Request(
                    uuid.uuid4().hex, path, BODIES[trigger], f'"{version}"', trigger, case_id
                )
                acked = _until_acknowledged(http, req, ledger, stop)
                if acked is None:
                    return
                version = acked[1]
    finally:
        http.close()


def _killer(servers: list[ServerProcess], kills: int, uptime: float, stop: threading.Event) -> None:
    """SIGKILL the servers' process groups in turn, each restarted before the next kill."""
    for n in range(kills):
        if stop.wait(uptime):
            return
        server = servers[n % len(servers)]
        server.kill()
        server.start(ready_timeout=120)


def run(
    database_url: str,
    token: str,
    work_dir: Path,
    *,
    seconds: float,
    kills: int,
    clients: int = 4,
    servers: int = 2,
    workers: int = 1,
) -> Report:
    """`servers` serve processes (each `--workers workers`) behind the clients."""
    began = time.monotonic()
    ledger, stop = Ledger(), threading.Event()
    group = [ServerProcess(database_url, work_dir, workers=workers) for _ in range(servers)]
    try:
        for server in group:
            server.start(ready_timeout=120)
        urls = [s.base_url for s in group]
        threads = [
            threading.Thread(target=_client_loop, args=(urls[i:] + urls[:i], token, ledger, stop))
            for i in range(clients)
        ]
        uptime = max(2.0, seconds / (kills + 1))
        killer = threading.Thread(target=_killer, args=(group, kills, uptime, stop))
        for t in [*threads, killer]:
            t.start()
        killer.join()  # every kill done and the servers back up
        stop.wait(max(0.0, seconds - (time.monotonic() - began)))
        stop.set()
        for t in threads:
            t.join(timeout=60)
        resent = _resend_unacknowledged(urls, token, ledger)
    finally:
        for server in group:
            server.stop()
    kills_done = sum(s.kills for s in group)
    return _verify(database_url, ledger, kills_done, resent, time.monotonic() - began)


def _resend_unacknowledged(base_urls: list[str], token: str, ledger: Ledger) -> int:
    pending = list(ledger.unacknowledged.values())
    with httpx.Client(
        base_url=base_urls[0], headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        for req in pending:
            response = _send(http, req, ledger)
            if response is None:
                ledger.problems.append(f"re-sending {req.trigger} {req.key} got no answer")
            else:
                _acknowledge(ledger, req, response)
    return len(pending)


def _verify(url: str, ledger: Ledger, kills: int, resent: int, seconds: float) -> Report:
    consistency = check_database(url)
    problems = ledger.problems + consistency.problems
    engine = create_engine(url)
    with engine.connect() as conn:
        events = {
            (str(c), s, t)
            for c, s, t in conn.execute(
                select(CaseEvent.case_id, CaseEvent.sequence, CaseEvent.event_type)
            )
        }
        cases = conn.execute(select(func.count()).select_from(Case)).scalar_one()
    engine.dispose()
    found = sum((c, v, t) in events for c, v, t in ledger.acknowledged.values())
    missing = [k for k, (c, v, t) in ledger.acknowledged.items() if (c, v, t) not in events]
    problems += [f"acknowledged write missing: {k} {ledger.acknowledged[k]}" for k in missing]
    create_keys = sum(t == "log_incident" for _c, _v, t in ledger.acknowledged.values())
    if cases != create_keys:
        problems.append(f"{cases} cases for {create_keys} creating keys (duplicates?)")
    verify = subprocess.run(
        [sys.executable, "-m", "api.cli", "audit", "verify"],
        cwd=REPO_ROOT,
        env={**_env(url)},
        capture_output=True,
        text=True,
        check=False,
    )
    if verify.returncode != 0:
        problems.append(f"casereview audit verify failed: {verify.stdout}{verify.stderr}")
    return Report(
        seconds,
        kills,
        ledger.sent,
        len(ledger.acknowledged),
        found,
        ledger.ambiguous,
        ledger.replays,
        resent,
        cases,
        create_keys,
        problems,
    )


def _env(url: str) -> dict[str, str]:
    return {**os.environ, "CASEREVIEW_DATABASE_URL": url}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.chaos.ledger",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--kills", type=int, default=8)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--servers", type=int, default=2, help="serve processes (ports)")
    parser.add_argument("--workers", type=int, default=1, help="workers per serve process")
    parser.add_argument(
        "--database-url", help="a migrated PostgreSQL database (default: a throwaway cluster)"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, prepared_database(args.database_url) as (url, token):
        report = run(
            url,
            token,
            Path(tmp),
            seconds=args.seconds,
            kills=args.kills,
            clients=args.clients,
            servers=args.servers,
            workers=args.workers,
        )
    print(report.table())
    for problem in report.problems[:20]:
        print("PROBLEM:", problem)
    return 1 if report.problems else 0


if __name__ == "__main__":
    sys.exit(main())
