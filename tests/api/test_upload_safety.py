"""Uploads under adversity: refused before the body is read, a full or failing
document store, and what a crash leaves behind (settled at start-up and by
`casereview documents clean-orphans`). The SIGKILL run is tests/chaos/test_upload_crash.py."""

from __future__ import annotations

import dataclasses
import errno
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.types import Message, Receive, Scope, Send

from api.main import create_app
from config.settings import Settings
from tests.api.helpers import open_case
from tests.api.test_documents import PDF, PROBLEM, TEXT, rows, stored_files, trail, upload
from tests.support.factories import incident
from tests.support.world import World
from workflow.audit import chain
from workflow.documents.cleanup import ACTION
from workflow.documents.storage import CHUNK, LocalDiskStorage, new_key
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord, DocumentVersion

BIG = 20_000_000  # under the upload limit (25 MB), so only authentication can refuse it


class BodyCounter:
    """The app behind a `receive` that hands the request body out a chunk at a time, as
    a socket does, counting the bytes the app pulled."""

    def __init__(self, app: FastAPI) -> None:
        self.app, self.pulled = app, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        pending, more, done = bytearray(), True, False

        async def paced() -> Message:
            nonlocal more, done
            if done:
                return await receive()
            while not pending and more:
                message = await receive()
                if message["type"] != "http.request":
                    return message
                pending.extend(message.get("body", b""))
                more = message.get("more_body", False)
            chunk = bytes(pending[:CHUNK])
            del pending[:CHUNK]
            self.pulled += len(chunk)
            done = not pending and not more
            return {"type": "http.request", "body": chunk, "more_body": not done}

        await self.app(scope, paced, send)


def big_form(size: int = BIG) -> tuple[bytes, dict[str, str]]:
    head = b"".join(
        b'--B\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (k, v)
        for k, v in ((b"kind", b"evidence"), (b"title", b"Minutes"), (b"redacted", b"true"))
    )
    head += b'--B\r\nContent-Disposition: form-data; name="file"; filename="m.txt"\r\n\r\n'
    body = head + b"m" * size + b"\r\n--B--\r\n"
    return body, {"Content-Type": "multipart/form-data; boundary=B"}


@pytest.mark.parametrize("caller", ["no token", "unknown token", "other partnership", "viewer"])
def test_a_refused_upload_is_answered_before_its_body_is_read(
    app: FastAPI, world: World, database: Database, caller: str
) -> None:
    counter = BodyCounter(app)
    officer = {"Authorization": f"Bearer {world.officer_token}"}
    with TestClient(counter) as http:
        case = _open(http, officer)
        url = f"/api/v1/cases/{case['id']}/documents"
        headers, status = {
            "no token": ({}, 401),
            "unknown token": ({"Authorization": "Bearer crt_" + "x" * 43}, 401),
            "other partnership": (world.auth("beta", "review_group"), 404),
            "viewer": (world.auth("alpha", "viewer"), 403),
        }[caller]
        body, form_type = big_form()
        counter.pulled = 0
        refused = http.post(url, content=body, headers={**headers, **form_type})
        assert refused.status_code == status, refused.text
        assert refused.headers["content-type"] == PROBLEM
        assert counter.pulled == 0  # not one byte of the 20 MB was read
        if caller in ("other partnership", "viewer"):  # an authenticated refusal: audited
            assert trail(database)[-1][2] in ("refused:CaseNotFound", "refused:Forbidden")
        accepted = http.post(url, content=body, headers={**officer, **form_type})
        assert accepted.status_code == 201, accepted.text
        assert counter.pulled == len(body)  # the counter sees what an accepted upload reads
    assert rows(database) == (1, 1)


def _open(http: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = http.post("/api/v1/incidents", json=incident(), headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class FillingStore(LocalDiskStorage):
    """The real local store whose part files fail with `code` once `capacity` bytes are
    written, as a disk that fills up (or fails) during an upload does."""

    def __init__(self, root: Path, code: int, capacity: int = 100_000) -> None:
        super().__init__(root)
        self.code, self.capacity = code, capacity

    def _create(self, path: Path) -> BinaryIO:
        return cast(BinaryIO, _Filling(super()._create(path), self.code, self.capacity))


class _Filling:
    def __init__(self, out: BinaryIO, code: int, capacity: int) -> None:
        self.out, self.code, self.room = out, code, capacity

    def write(self, data: bytes) -> int:
        if len(data) > self.room:
            self.out.write(data[: self.room])  # the part is left partly written
            self.out.flush()
            self.room = 0
            raise OSError(self.code, os.strerror(self.code))
        self.room -= len(data)
        return self.out.write(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.out, name)

    def __enter__(self) -> _Filling:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.out.close()


@pytest.mark.parametrize(
    ("code", "status", "slug", "retry_after", "refusal"),
    [
        (errno.ENOSPC, 507, "insufficient-storage", "60", "StorageFull"),
        (errno.EDQUOT, 507, "insufficient-storage", "60", "StorageFull"),
        (errno.EIO, 503, "unavailable", "30", "StorageUnavailable"),
    ],
    ids=["ENOSPC", "EDQUOT", "EIO"],
)
def test_a_full_or_failing_store_refuses_the_upload_audited_and_leaves_nothing(
    client: TestClient,
    app: FastAPI,
    settings: Settings,
    database: Database,
    code: int,
    status: int,
    slug: str,
    retry_after: str,
    refusal: str,
) -> None:
    case = open_case(client)
    store = FillingStore(settings.effective_documents_dir, code)
    app.state.services = dataclasses.replace(app.state.services, storage=store)
    response = upload(client, case, "minutes.txt", TEXT * 5_000)  # 300 KB: over the room
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"] == retry_after
    assert response.json()["type"].endswith(slug)
    assert "minutes" not in response.text
    assert str(settings.data_dir) not in response.text
    assert stored_files(settings) == []  # the partly written part was removed
    assert rows(database) == (0, 0)
    assert trail(database)[-1] == ("la.officer", "upload_document", f"refused:{refusal}")
    assert all(r.ok for r in database.read(chain.verify_all))
    small = upload(client, case, "short.txt", TEXT)  # room enough: accepted
    assert small.status_code == 201, small.text


def test_a_store_whose_scratch_space_vanished_answers_503_not_500(
    client: TestClient, settings: Settings, database: Database
) -> None:
    case = open_case(client)
    shutil.rmtree(settings.effective_documents_dir / ".incoming")  # e.g. a volume unmounted
    response = upload(client, case)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "30"
    assert response.json()["detail"] == "the document store failed (ENOENT); try again later"
    assert rows(database) == (0, 0)
    assert trail(database)[-1] == ("la.officer", "upload_document", "refused:StorageUnavailable")


def test_a_failing_disk_while_the_form_is_spooled_is_the_stores_refusal(
    client: TestClient,
    settings: Settings,
    database: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = open_case(client)
    # Parts over 1 MB are spooled to a temporary file while the form is parsed.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "gone"))
    response = upload(client, case, "big.pdf", PDF + b"0" * 2_000_000)
    assert response.status_code == 503, response.text
    assert response.headers["retry-after"] == "30"
    assert rows(database) == (0, 0)
    assert trail(database)[-1] == ("la.officer", "upload_document", "refused:StorageUnavailable")


class Witness(LocalDiskStorage):
    """The real local store, noting at each move into place whether the version is
    already visible to another connection, i.e. committed."""

    def __init__(self, root: Path, database: Database) -> None:
        super().__init__(root)
        self.database, self.committed_at_place = database, list[bool]()

    def place(self, key: str) -> None:
        found = self.database.read(
            lambda s: s.scalar(select(DocumentVersion.id).where(DocumentVersion.storage_key == key))
        )
        self.committed_at_place.append(found is not None)
        super().place(key)


def test_the_file_is_moved_into_place_only_after_its_version_committed(
    client: TestClient, app: FastAPI, settings: Settings, database: Database
) -> None:
    case = open_case(client)
    witness = Witness(settings.effective_documents_dir, database)
    app.state.services = dataclasses.replace(app.state.services, storage=witness)
    assert upload(client, case).status_code == 201
    assert witness.committed_at_place == [True]
    assert [p.name for p in stored_files(settings)] == [key_of(database)]


def key_of(database: Database) -> str:
    return str(database.read(lambda s: s.scalar(select(DocumentVersion.storage_key))))


def aged(path: Path, hours: float = 2) -> Path:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))
    return path


def cleanups(database: Database) -> list[dict[str, Any]]:
    records = database.read(
        lambda s: list(s.scalars(select(AuditRecord).where(AuditRecord.action == ACTION)))
    )
    assert all(r.chain == "system" and r.case_id is None for r in records)
    return [r.detail for r in records]


def restart(settings: Settings) -> None:
    """Start and stop another app on the same database and store: its start-up runs."""
    with TestClient(create_app(settings)):
        pass


def test_start_up_places_a_committed_upload_a_crash_left_in_its_part(
    client: TestClient, settings: Settings, database: Database
) -> None:
    case = open_case(client)
    doc = upload(client, case).json()
    key = key_of(database)
    placed = settings.effective_documents_dir / key[:2] / key
    part = settings.effective_documents_dir / ".incoming" / f"{key}.part"
    aged(placed).rename(part)  # killed between the commit and the move
    missing = client.get(doc["versions"][0]["content_url"])
    assert missing.status_code == 503  # not yet in place: retry, not a 500
    assert missing.headers["retry-after"] == "30"
    restart(settings)
    assert not part.exists()
    assert client.get(doc["versions"][0]["content_url"]).content == PDF
    assert cleanups(database)[-1]["restored"] == 1
    assert all(r.ok for r in database.read(chain.verify_all))


def test_start_up_removes_unfinished_uploads_once_old_and_keeps_recent_ones(
    client: TestClient, settings: Settings, database: Database
) -> None:
    incoming = settings.effective_documents_dir / ".incoming"
    old = incoming / f"{new_key()}.part"
    old_style = incoming / "upload-k3j2h1.part"  # an earlier release's temporary name
    recent = incoming / f"{new_key()}.part"  # perhaps another worker's live upload
    for path in (old, old_style, recent):
        path.write_bytes(b"Child A's unredacted report")
    aged(old)
    aged(old_style, hours=30)
    restart(settings)
    assert sorted(incoming.iterdir()) == [recent]
    (detail,) = cleanups(database)
    assert (detail["removed_parts"], detail["kept_recent"], detail["restored"]) == (2, 1, 0)
    assert detail["older_than_minutes"] == settings.upload_leftover_minutes
    assert "k3j2h1" not in str(detail)
    assert recent.stem not in str(detail)
    restart(settings)  # nothing removed this time: no second record
    assert len(cleanups(database)) == 1


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from api.cli import main
    from config.settings import get_settings

    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("CASEREVIEW_DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield lambda *args: main(["documents", "clean-orphans", *args])
    get_settings.cache_clear()


def test_clean_orphans_removes_unreferenced_files_never_referenced_ones(
    client: TestClient,
    settings: Settings,
    database: Database,
    cli: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    case = open_case(client)
    doc = upload(client, case).json()
    root = settings.effective_documents_dir
    kept = aged(stored_files(settings)[0])  # old, but its version refers to it
    orphans = []
    for hours in (3, 0):  # placed by an earlier release, its transaction then failed
        key = new_key()
        (root / key[:2]).mkdir(exist_ok=True)
        (root / key[:2] / key).write_bytes(b"orphan")
        orphans.append(aged(root / key[:2] / key, hours))
    part = root / ".incoming" / f"{new_key()}.part"
    part.write_bytes(b"unfinished")
    aged(part)

    assert cli("--dry-run") == 0
    assert "would be (dry run): 0 committed upload(s) moved into place, 1 unfinished" in (
        capsys.readouterr().out
    )
    assert all(p.exists() for p in [kept, *orphans, part])
    assert cli() == 0
    assert [p.exists() for p in [kept, *orphans, part]] == [True, False, True, False]
    assert cli("--older-than-minutes", "0") == 0  # no server running: nothing is live
    assert stored_files(settings) == [kept]
    assert client.get(doc["versions"][0]["content_url"]).content == PDF
    dry, first, second = cleanups(database)
    assert (dry["dry_run"], dry["removed_parts"], dry["removed_orphans"]) == (True, 1, 1)
    assert (first["removed_parts"], first["removed_orphans"], first["kept_recent"]) == (1, 1, 1)
    assert (second["removed_orphans"], second["older_than_minutes"]) == (1, 0)
    assert all(r.ok for r in database.read(chain.verify_all))
    kept.unlink()  # a committed version whose content is gone: said, and exit 1
    capsys.readouterr()
    assert cli() == 1
    assert "1 committed version(s) have no content" in capsys.readouterr().err
