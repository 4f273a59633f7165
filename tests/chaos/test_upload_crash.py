"""SIGKILL `casereview serve` while four clients upload documents, each kill (after a
few acknowledged uploads) the moment a new part file appears in the store's scratch
space: an upload being received or recorded. The start-up after each kill keeps those
young leftovers: they could be another worker's live uploads. Then the leftovers are
made old (their mtimes moved back two hours: no waiting) and the next start-up settles
them. Afterwards: no part file, no stored file without its version, no version without
its file, every acknowledged upload downloads byte-identical, the audit chains verify,
and the start-ups' audit records count what they settled. 15-45 s per database here."""

from __future__ import annotations

import hashlib
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.chaos.server import ServerProcess
from tests.chaos.setup import seed
from tests.support.factories import incident
from workflow.audit import chain
from workflow.documents.cleanup import ACTION
from workflow.storage.models import AuditRecord, DocumentVersion

MIN_KILLS, MAX_KILLS = 2, 6
CLIENTS = 4
ACKS_BETWEEN_KILLS = 5
SIZE = 400_000


@dataclass
class Uploads:
    acknowledged: dict[str, str] = field(default_factory=dict)  # content url -> sha256
    problems: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _client(base_url: str, token: str, uploads: Uploads, stop: threading.Event, n: int) -> None:
    auth = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base_url, headers=auth, timeout=15) as http:
        case_id = None
        while case_id is None and not stop.is_set():
            try:
                response = http.post("/api/v1/incidents", json=incident())
                case_id = response.json()["id"] if response.status_code == 201 else None
            except httpx.TransportError:
                time.sleep(0.1)
        while not stop.is_set():
            line = f"client {n} upload {uuid.uuid4()}\n".encode()
            content = line * (SIZE // len(line))
            files = {"file": (f"u{n}.txt", content, "text/plain")}
            form = {"kind": "evidence", "title": "Upload", "redacted": "true"}
            try:
                response = http.post(f"/api/v1/cases/{case_id}/documents", files=files, data=form)
            except httpx.TransportError:  # killed meanwhile: unacknowledged
                time.sleep(0.1)
                continue
            with uploads.lock:
                if response.status_code == 201:
                    url = response.json()["versions"][0]["content_url"]
                    uploads.acknowledged[url] = hashlib.sha256(content).hexdigest()
                elif response.status_code != 503:
                    uploads.problems.append(f"{response.status_code} {response.text[:200]}")


def _parts(store: Path) -> set[str]:
    try:
        return {e.name for e in os.scandir(store / ".incoming")}
    except FileNotFoundError:
        return set()


def _kill_during_an_upload(
    server: ServerProcess, store: Path, known: set[str], uploads: Uploads
) -> bool:
    """Once a few more uploads are acknowledged, SIGKILL as soon as a part file not
    seen before exists; False if none came."""
    wanted, deadline = len(uploads.acknowledged) + ACKS_BETWEEN_KILLS, time.monotonic() + 30
    while time.monotonic() < deadline:
        if len(uploads.acknowledged) >= wanted and _parts(store) - known:
            server.kill()
            return True
        time.sleep(0.001)
    return False


def test_sigkill_during_uploads_leaves_no_part_and_no_orphan(db_url: str, tmp_path: Path) -> None:
    token = seed(db_url)
    store = tmp_path / "documents"
    server = ServerProcess(db_url, tmp_path)
    uploads, stop = Uploads(), threading.Event()
    try:
        server.start(ready_timeout=120)
        clients = [
            threading.Thread(target=_client, args=(server.base_url, token, uploads, stop, n))
            for n in range(CLIENTS)
        ]
        for t in clients:
            t.start()
        seen: set[str] = set()  # every part a kill left
        while server.kills < MAX_KILLS and (server.kills < MIN_KILLS or not seen):
            killed = _kill_during_an_upload(server, store, _parts(store), uploads)
            assert killed, f"no upload under way; {uploads.problems[:3]}"
            leftovers = _parts(store)
            seen |= leftovers
            server.start(ready_timeout=120)
            # The start-up places the parts of committed versions (killed between the
            # commit and the move) and keeps the others: they could be live uploads
            # of another worker.
            for name in leftovers - _parts(store):
                key = name.removesuffix(".part")
                assert (store / key[:2] / key).is_file(), f"{name} vanished unplaced"
        stop.set()
        for t in clients:
            t.join(timeout=60)
        server.stop()
        assert seen, f"{server.kills} kills left no part file to settle"
        then = time.time() - 2 * 3600
        for name in _parts(store):
            os.utime(store / ".incoming" / name, (then, then))
        server.start(ready_timeout=120)
        with httpx.Client(base_url=server.base_url, timeout=30) as http:
            for url, sha in uploads.acknowledged.items():
                got = http.get(url, headers={"Authorization": f"Bearer {token}"})
                assert got.status_code == 200, got.text
                assert hashlib.sha256(got.content).hexdigest() == sha
    finally:
        stop.set()
        server.stop()

    assert uploads.problems == []
    assert len(uploads.acknowledged) > 0
    assert _parts(store) == set()
    placed = {p.name for p in store.glob("??/*") if p.is_file()}
    engine = create_engine(db_url)
    try:
        with Session(engine) as session:
            keys = set(session.scalars(select(DocumentVersion.storage_key)))
            reports = chain.verify_all(session)
            records = list(session.scalars(select(AuditRecord).where(AuditRecord.action == ACTION)))
    finally:
        engine.dispose()
    assert placed == keys  # no orphan file, no version without its content
    assert all(r.ok for r in reports), [r.problem for r in reports if not r.ok]
    restored = sum(r.detail["restored"] for r in records)
    assert restored + sum(r.detail["removed_parts"] for r in records) == len(seen)
    print(
        f"\n{server.kills} SIGKILLs, {len(uploads.acknowledged)} uploads acknowledged, "
        f"{len(keys)} versions, {len(seen)} leftover part(s) settled at start-up "
        f"({restored} of committed versions placed)"
    )
