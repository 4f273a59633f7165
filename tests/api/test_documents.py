"""Documents through the HTTP API: types by content, immutable versions, refusals
that leave nothing behind, access by role and partnership, the audit trail."""

from __future__ import annotations

import hashlib
import io
import threading
import zipfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy import func, select

from api.deps import get_now
from api.main import create_app
from config.settings import Settings
from tests.api.helpers import command, open_case
from tests.support.db_plugin import Clock
from tests.support.factories import NOW
from tests.support.world import World
from workflow.audit import chain
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord, Document, DocumentVersion

PROBLEM = "application/problem+json"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT_TYPE = "application/vnd.oasis.opendocument.text"


def zipped(*entries: tuple[str, str]) -> bytes:
    """A zip with fixed timestamps, so the same entries always give the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        for name, text in entries:
            z.writestr(zipfile.ZipInfo(name, date_time=(2025, 3, 1, 0, 0, 0)), text)
    return buffer.getvalue()


DOCX = zipped(("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>"))
ODT = zipped(("mimetype", ODT_TYPE), ("content.xml", "<office:document-content/>"))
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
TEXT = "Rapid review notes: agencies met on 18 March. Café, naïve, ✓\n".encode()
EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00This program cannot be run"
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"


def upload(
    client: TestClient,
    case: dict[str, Any],
    name: str = "report.pdf",
    data: bytes = PDF,
    *,
    redacted: bool = True,
    content_type: str = "application/octet-stream",
    headers: dict[str, str] | None = None,
    **fields: str,
) -> Response:
    form = {"kind": "final_report", "title": "Final report", "redacted": str(redacted).lower()}
    return client.post(
        f"/api/v1/cases/{case['id']}/documents",
        files={"file": (name, data, content_type)},
        data={**form, **fields},
        headers=headers or {},
    )


def add_version(
    client: TestClient, doc: dict[str, Any], name: str, data: bytes, **kw: Any
) -> Response:
    url = f"/api/v1/cases/{doc['case_id']}/documents/{doc['id']}/versions"
    return client.post(url, files={"file": (name, data, "application/pdf")}, **kw)


def stored_files(settings: Settings) -> list[Path]:
    return sorted(p for p in settings.effective_documents_dir.rglob("*") if p.is_file())


def rows(database: Database) -> tuple[int, int]:
    def count(s: Any) -> tuple[int, int]:
        documents = s.scalar(select(func.count()).select_from(Document))
        versions = s.scalar(select(func.count()).select_from(DocumentVersion))
        return documents, versions

    return database.read(count)


def trail(database: Database) -> list[tuple[str, str, str]]:
    records = database.read(
        lambda s: list(s.scalars(select(AuditRecord).order_by(AuditRecord.chain, AuditRecord.seq)))
    )
    return [(r.actor, r.action, r.outcome) for r in records if "document" in r.action]


@pytest.mark.parametrize(
    ("name", "data", "media_type"),
    [
        ("report.pdf", PDF, "application/pdf"),
        ("report.docx", DOCX, DOCX_TYPE),
        ("report.odt", ODT, ODT_TYPE),
        ("notes.txt", TEXT, "text/plain; charset=utf-8"),
        ("chronology.png", PNG, "image/png"),
        ("photo.JPG", JPEG, "image/jpeg"),
    ],
    ids=["pdf", "docx", "odt", "text", "png", "jpeg"],
)
def test_each_allowed_type_is_detected_by_content_and_downloads_unchanged(
    client: TestClient, name: str, data: bytes, media_type: str
) -> None:
    case = open_case(client)
    response = upload(client, case, name, data)  # the client claims octet-stream
    assert response.status_code == 201, response.text
    doc = response.json()
    (version,) = doc["versions"]
    sha = hashlib.sha256(data).hexdigest()
    assert (doc["kind"], doc["title"], doc["redacted"]) == ("final_report", "Final report", True)
    assert (version["number"], version["filename"]) == (1, name)
    assert (version["media_type"], version["size"]) == (media_type, len(data))
    assert version["sha256"] == sha
    assert version["uploaded_by"] == "la.officer"
    assert response.headers["location"] == version["content_url"]
    content = client.get(version["content_url"])
    assert content.status_code == 200
    assert content.content == data
    assert content.headers["content-type"] == media_type
    assert content.headers["etag"] == f'"{sha}"'
    assert content.headers["cache-control"] == "no-store"
    assert content.headers["x-content-type-options"] == "nosniff"
    assert content.headers["content-disposition"].startswith(f'attachment; filename="{name}"')


def test_versions_are_added_never_overwritten(
    client: TestClient, settings: Settings, database: Database
) -> None:
    case = open_case(client)
    first = upload(client, case, "draft.pdf", PDF, kind="draft_report", title="Draft").json()
    second = add_version(client, first, "draft v2.docx", DOCX)
    assert second.status_code == 201, second.text
    third = add_version(client, first, "draft v3.pdf", PDF + b"% v3\n").json()
    assert [v["number"] for v in third["versions"]] == [1, 2, 3]
    listed = client.get(f"/api/v1/cases/{case['id']}/documents").json()["items"]
    assert [d["id"] for d in listed] == [first["id"]]
    assert listed[0]["versions"] == third["versions"]
    for version, data in zip(third["versions"], [PDF, DOCX, PDF + b"% v3\n"], strict=True):
        content = client.get(version["content_url"])
        assert content.content == data  # the first version is still byte-identical
        assert hashlib.sha256(content.content).hexdigest() == version["sha256"]
    assert len(stored_files(settings)) == 3
    assert rows(database) == (1, 3)
    # Documents are not commands: the case's version is untouched, so a sub-group
    # command holding the ETag read before the uploads still succeeds.
    assert client.get(f"/api/v1/cases/{case['id']}").json()["version"] == case["version"]
    assert command(client, case, "record_notification").status_code == 200


def test_concurrent_versions_get_distinct_numbers(client: TestClient) -> None:
    case = open_case(client)
    doc = upload(client, case).json()
    barrier, statuses = threading.Barrier(6), []

    def act(i: int) -> None:
        barrier.wait()
        statuses.append(add_version(client, doc, f"v{i}.pdf", PDF + str(i).encode()).status_code)

    threads = [threading.Thread(target=act, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [201] * 6
    versions = client.get(f"/api/v1/cases/{case['id']}/documents").json()["items"][0]["versions"]
    assert [v["number"] for v in versions] == [1, 2, 3, 4, 5, 6, 7]


def assert_left_nothing(settings: Settings, database: Database) -> None:
    assert stored_files(settings) == []
    assert rows(database) == (0, 0)


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("report.pdf", EXE, "application/pdf"),  # a program dressed as a PDF
        ("report.pdf", HTML, "application/pdf"),  # HTML dressed as a PDF
        ("report.pdf", TEXT, "application/pdf"),  # real text, but named .pdf
        ("notes.txt", HTML, "text/plain"),  # markup is not plain text
        ("report.docx", PDF, DOCX_TYPE),  # a PDF named .docx
        ("report.docx", b"PK\x03\x04 not really a zip", DOCX_TYPE),
        ("notes.txt", b"\xff\xfeU\x00T\x00F\x00", "text/plain"),  # UTF-16, not UTF-8
        ("notes.txt", b"text\x00with a NUL", "text/plain"),
    ],
    ids=str.split("exe-as-pdf html-as-pdf text-as-pdf html-as-txt pdf-as-docx bad-zip utf16 nul"),
)
def test_disguised_or_unsupported_content_is_415_and_leaves_nothing(
    client: TestClient,
    settings: Settings,
    database: Database,
    name: str,
    data: bytes,
    content_type: str,
) -> None:
    case = open_case(client)
    response = upload(client, case, name, data, content_type=content_type)
    assert response.status_code == 415, response.text
    assert response.headers["content-type"] == PROBLEM
    problem = response.json()
    assert problem["type"].endswith("unsupported-document")
    assert problem["errors"][0]["field"] == "file"
    assert_left_nothing(settings, database)
    assert trail(database)[-1] == ("la.officer", "upload_document", "refused:UnsupportedDocument")


def multipart(filename: str, data: bytes) -> tuple[bytes, dict[str, str]]:
    """A multipart body written by hand: the filename's bytes exactly as given (httpx
    would percent-escape control characters)."""
    fields = {"kind": "final_report", "title": "Final report", "redacted": "true"}
    body = b"".join(
        b'--B\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' % (k.encode(), v.encode())
        for k, v in fields.items()
    )
    body += b'--B\r\nContent-Disposition: form-data; name="file"; filename="%s"\r\n' % (
        filename.encode()
    )
    body += b"Content-Type: application/pdf\r\n\r\n" + data + b"\r\n--B--\r\n"
    return body, {"Content-Type": "multipart/form-data; boundary=B"}


@pytest.mark.parametrize(
    "name",
    [
        "../x.pdf",
        "a/b.pdf",
        "a\\b.pdf",
        "..",
        "report..pdf",
        "x" * 252 + ".pdf",
        "bell\x07.pdf",
        "escape\x1b[31m.pdf",
        "gnp\u202e.pdf",  # right-to-left override: a name that reads differently
    ],
)
def test_unsafe_filename_is_422_and_leaves_nothing(
    client: TestClient, settings: Settings, database: Database, name: str
) -> None:
    case = open_case(client)
    body, headers = multipart(name, PDF)
    response = client.post(f"/api/v1/cases/{case['id']}/documents", content=body, headers=headers)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["errors"][0]["field"] == "file.filename"
    assert_left_nothing(settings, database)


def test_empty_file_is_422_and_leaves_nothing(
    client: TestClient, settings: Settings, database: Database
) -> None:
    response = upload(client, open_case(client), "empty.txt", b"")
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "file", "message": "the file is empty"}]
    assert_left_nothing(settings, database)


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"kind": "novel"}, "kind"), ({"title": " "}, "title"), ({"colour": "red"}, "colour")],
)
def test_invalid_form_fields_are_422_naming_the_field(
    client: TestClient, settings: Settings, database: Database, fields: dict[str, str], field: str
) -> None:
    response = upload(client, open_case(client), **fields)
    assert response.status_code == 422
    assert field in [e["field"] for e in response.json()["errors"]]
    assert_left_nothing(settings, database)


@pytest.fixture
def small(settings: Settings, world: World) -> Iterator[TestClient]:
    """Signed in as la.officer, on an app accepting uploads of at most 1000 bytes."""
    app = create_app(settings.model_copy(update={"max_upload_bytes": 1000}))
    app.dependency_overrides[get_now] = lambda: NOW
    headers = {"Authorization": f"Bearer {world.officer_token}"}
    with TestClient(app, headers=headers) as c:
        yield c


def test_too_large_is_413_and_leaves_nothing(
    small: TestClient, settings: Settings, database: Database
) -> None:
    case = open_case(small)
    assert upload(small, case, "a.txt", b"a" * 1000).status_code == 201  # exactly the limit
    before = (stored_files(settings), rows(database))
    over = upload(small, case, "b.txt", b"b" * 1001)
    assert over.status_code == 413
    assert over.json()["type"].endswith("document-too-large")
    assert over.json()["errors"][0]["field"] == "file"
    far_over = upload(small, case, "c.txt", b"c" * 200_000)  # refused before it is read
    assert far_over.status_code == 413
    assert far_over.headers["content-type"] == PROBLEM

    def chunks() -> Iterator[bytes]:  # no Content-Length: stopped while streaming
        yield b"--x\r\nContent-Disposition: form-data; name=file; filename=d.txt\r\n\r\n"
        yield from (b"d" * 10_000 for _ in range(20))

    url = f"/api/v1/cases/{case['id']}/documents"
    multipart_x = {"Content-Type": "multipart/form-data; boundary=x"}
    streamed = small.post(url, content=chunks(), headers=multipart_x)
    assert streamed.status_code == 413
    assert (stored_files(settings), rows(database)) == before


def test_uploads_may_exceed_the_general_body_limit_other_requests_may_not(
    client: TestClient, settings: Settings
) -> None:
    big = b"%PDF-1.7\n" + b"0" * (settings.max_body_bytes + 100_000)
    response = upload(client, open_case(client), "big.pdf", big)
    assert response.status_code == 201
    assert response.json()["versions"][0]["size"] == len(big)
    too_big_json = client.post("/api/v1/incidents", content=b"{" + b" " * len(big) + b"}")
    assert too_big_json.status_code == 413


def test_a_failed_transaction_removes_the_stored_file(
    client: TestClient, settings: Settings, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    case = open_case(client)

    def broken(*args: Any) -> Any:
        raise RuntimeError("rendering failed after the file was moved into place")

    monkeypatch.setattr("api.routes.documents._render", broken)
    with pytest.raises(RuntimeError):
        upload(client, case)
    assert_left_nothing(settings, database)


def test_another_partnerships_case_is_404_for_every_document_endpoint(
    client: TestClient, raw: TestClient, world: World, database: Database
) -> None:
    case = open_case(client)
    doc = upload(client, case).json()
    beta = world.auth("beta", "review_group")
    assert upload(raw, case, headers=beta).status_code == 404
    assert add_version(raw, doc, "v2.pdf", PDF, headers=beta).status_code == 404
    assert raw.get(f"/api/v1/cases/{case['id']}/documents", headers=beta).status_code == 404
    download = raw.get(doc["versions"][0]["content_url"], headers=beta)
    assert download.status_code == 404
    assert download.headers["content-type"] == PROBLEM
    assert rows(database) == (1, 1)
    missing = client.get(doc["versions"][0]["content_url"].replace("/1/content", "/2/content"))
    assert missing.status_code == 404


def test_viewer_reads_redacted_documents_only_and_cannot_upload(
    client: TestClient, raw: TestClient, world: World, database: Database, clock: Clock
) -> None:
    case = open_case(client)
    redacted = upload(client, case, "summary.pdf", title="Summary (redacted)").json()
    clock.now = NOW + timedelta(minutes=5)
    full = upload(client, case, "full.pdf", PDF + b"%full\n", redacted=False).json()
    viewer = world.auth("alpha", "viewer")
    refused = upload(raw, case, headers=viewer)
    assert refused.status_code == 403
    assert refused.headers["content-type"] == PROBLEM
    assert add_version(raw, redacted, "v2.pdf", PDF, headers=viewer).status_code == 403
    listed = raw.get(f"/api/v1/cases/{case['id']}/documents", headers=viewer).json()["items"]
    assert [d["id"] for d in listed] == [redacted["id"]]  # the unredacted one is absent
    assert raw.get(redacted["versions"][0]["content_url"], headers=viewer).content == PDF
    assert raw.get(full["versions"][0]["content_url"], headers=viewer).status_code == 404
    everything = client.get(f"/api/v1/cases/{case['id']}/documents").json()["items"]
    assert [d["id"] for d in everything] == [redacted["id"], full["id"]]
    assert rows(database) == (2, 2)


def test_uploads_and_unredacted_downloads_are_audited(
    client: TestClient, raw: TestClient, world: World, database: Database
) -> None:
    case = open_case(client)
    redacted = upload(client, case, "summary.pdf").json()
    full = upload(client, case, "Child A full report.pdf", redacted=False).json()
    client.get(redacted["versions"][0]["content_url"])  # redacted: not personal, not audited
    client.get(full["versions"][0]["content_url"])
    upload(raw, case, headers=world.auth("alpha", "viewer"))
    assert trail(database) == [
        ("la.officer", "upload_document", "ok"),
        ("la.officer", "upload_document", "ok"),
        ("la.officer", "download_document", "ok"),
        ("alpha-viewer", "upload_document", "refused:Forbidden"),
    ]
    records = database.read(lambda s: list(s.scalars(select(AuditRecord))))
    downloads = [r for r in records if r.action == "download_document"]
    assert downloads[0].detail["document_id"] == full["id"]
    assert downloads[0].chain == "alpha"
    assert "Child A" not in str([r.detail for r in records])
    assert all(r.ok for r in database.read(chain.verify_all))


def test_replayed_upload_adds_no_second_version(client: TestClient, database: Database) -> None:
    case = open_case(client)
    key = {"Idempotency-Key": "upload-0001"}
    first = upload(client, case, headers=key)
    again = upload(client, case, headers=key)  # a new multipart boundary, same content
    assert (first.status_code, again.status_code) == (201, 201)
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert rows(database) == (1, 1)
    other = upload(client, case, data=PDF + b"%other\n", headers=key)
    assert other.status_code == 422
    assert other.json()["errors"][0]["field"] == "header.idempotency-key"
    assert rows(database) == (1, 1)


def test_content_disposition_is_safe_for_any_name(client: TestClient) -> None:
    case = open_case(client)
    doc = upload(client, case, 'Rapport "final" é;x.pdf').json()
    # httpx sends the quote as %22; whatever arrives is offered back safely
    header = client.get(doc["versions"][0]["content_url"]).headers["content-disposition"]
    fallback, encoded = header.split("; filename*=")
    assert fallback.startswith('attachment; filename="')
    assert fallback.count('"') == 2
    assert encoded.startswith("UTF-8''")
    assert not set(' "\\;') & set(encoded)
    assert header.isascii()
