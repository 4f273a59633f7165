"""Content detection and filename rules for uploads (pure), and the local store's keys."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from workflow.core.errors import (
    DocumentTooLarge,
    InvalidFacts,
    StorageUnavailable,
    UnsupportedDocument,
)
from workflow.documents import sniff
from workflow.documents.storage import LocalDiskStorage, new_key


def zipped(*entries: tuple[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in entries:
            z.writestr(name, text)
    return buffer.getvalue()


def detect(data: bytes) -> str | None:
    return sniff.detect(io.BytesIO(data))


DOCX = zipped(("[Content_Types].xml", "<Types/>"), ("word/document.xml", "<w:document/>"))
ODT = zipped(("mimetype", sniff.ODT), ("content.xml", "<office:document-content/>"))


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"%PDF-1.4\n...", sniff.PDF),
        (DOCX, sniff.DOCX),
        (ODT, sniff.ODT),
        (b"\x89PNG\r\n\x1a\n\x00\x00", sniff.PNG),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", sniff.JPEG),
        ("Plain notes, UTF-8: café ✓\n".encode(), sniff.TEXT),
        ("\ufeffwith a byte order mark".encode(), sniff.TEXT),
        (b"x < y and <b is not a tag", sniff.TEXT),
    ],
)
def test_allowed_types_are_recognised_by_their_bytes(data: bytes, expected: str) -> None:
    assert detect(data) == expected


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"MZ\x90\x00\x03\x00\x00\x00",  # a Windows program
        b"\x7fELF\x02\x01\x01\x00",  # a Linux program
        b" %PDF-1.4 not at the start",  # with a leading byte it is text-ish: see below
        b"GIF89a\x01\x00\x01\x00\x00\x00",  # an image type not allowed (NUL bytes)
        b"text with a \x00 NUL",
        b"\xff\xfeU\x00T\x00F\x00-\x001\x006\x00",  # UTF-16
        b"caf\xe9 (Latin-1)",
        b"<!DOCTYPE html><html></html>",
        b"  \n<html><body>hi</body></html>",
        b"<script>alert(1)</script>",
        b'<?xml version="1.0"?><svg/>',
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"<!-- a comment --><p>",
        zipped(("readme.txt", "a plain zip")),
        zipped(("[Content_Types].xml", "<Types/>"), ("xl/workbook.xml", "<x/>")),  # XLSX
        zipped(("mimetype", "application/vnd.oasis.opendocument.spreadsheet")),  # ODS
        zipped(("content.xml", "<x/>"), ("mimetype", sniff.ODT)),  # mimetype not first
        b"PK\x03\x04 truncated, not a zip",
    ],
)
def test_anything_else_is_not_allowed(data: bytes) -> None:
    if data.startswith(b" %PDF"):
        assert detect(data) == sniff.TEXT  # plain text that merely mentions %PDF
        return
    assert detect(data) is None


def test_text_is_validated_to_the_end_across_chunk_boundaries() -> None:
    euro = "€".encode()  # three bytes, split across the first chunk boundary
    good = b"a" * (sniff.CHUNK - 1) + euro + b" end"
    assert detect(good) == sniff.TEXT
    assert detect(b"a" * (sniff.CHUNK * 3) + b"\x00") is None
    assert detect(b"a" * (sniff.CHUNK * 2) + euro[:2]) is None  # truncated at the end


@pytest.mark.parametrize("name", ["report.pdf", "Final report (v2).docx", "été.odt", "a.b.txt"])
def test_ordinary_filenames_are_kept(name: str) -> None:
    assert sniff.check_filename(name) == name


@pytest.mark.parametrize(
    "name",
    [
        *("", "   ", "../x.pdf", "a/b.pdf", "a\\b.pdf", "..", "x..pdf"),
        *("a\x00.pdf", "a\nb.pdf", "tab\there.pdf", "\u202egnp.pdf", "x" * 252 + ".pdf"),
    ],
)
def test_unsafe_filenames_are_refused_naming_the_field(name: str) -> None:
    with pytest.raises(InvalidFacts) as refused:
        sniff.check_filename(name)
    assert refused.value.field == "file.filename"


def test_a_filename_of_255_characters_is_allowed() -> None:
    assert len(sniff.check_filename("x" * 251 + ".pdf")) == 255


@pytest.mark.parametrize(
    ("media_type", "name", "ok"),
    [
        (sniff.PDF, "report.PDF", True),
        (sniff.JPEG, "photo.jpeg", True),
        (sniff.TEXT, "notes.md", True),
        (sniff.PDF, "report.docx", False),
        (sniff.TEXT, "report.pdf", False),
        (sniff.TEXT, "page.html", False),
        (sniff.TEXT, "README", False),
        (None, "report.pdf", False),
    ],
)
def test_the_filename_must_agree_with_the_content(
    media_type: str | None, name: str, ok: bool
) -> None:
    if ok:
        assert sniff.check_matches(media_type, name) == media_type
        return
    with pytest.raises(UnsupportedDocument) as refused:
        sniff.check_matches(media_type, name)
    assert refused.value.field == "file"


def test_local_storage_keys_stay_inside_the_root(tmp_path: Path) -> None:
    store = LocalDiskStorage(tmp_path / "docs")
    for bad in ("../../etc/passwd", "/etc/passwd", "ab", "A" * 32, new_key() + "/x"):
        with pytest.raises(ValueError, match="storage key"):
            store.exists(bad)
        with pytest.raises(ValueError, match="storage key"):
            store.receive(bad, io.BytesIO(b"x"), max_bytes=100)
    key = new_key()
    staged = store.receive(key, io.BytesIO(b"%PDF-1 content"), max_bytes=100)
    assert staged.path.name == f"{key}.part"
    assert store.has_part(key)
    assert not store.exists(key)
    store.place(key)
    assert not staged.path.exists()
    assert store.exists(key)
    store.place(key)  # idempotent: a clean-up may race the upload that committed it
    with store.open(key) as content:
        assert content.read() == b"%PDF-1 content"
    store.receive(key, io.BytesIO(b"again"), max_bytes=100)
    store.place(key)  # immutable: the placed content is kept, the part dropped
    with store.open(key) as content:
        assert content.read() == b"%PDF-1 content"
    assert not store.has_part(key)
    other = new_key()
    store.receive(other, io.BytesIO(b"first"), max_bytes=100)
    with pytest.raises(StorageUnavailable):  # a part is never written over either
        store.receive(other, io.BytesIO(b"second"), max_bytes=100)
    assert store.has_part(other)
    store.delete(key)
    assert not store.exists(key)


def test_receive_stops_over_the_limit_and_leaves_nothing(tmp_path: Path) -> None:
    class Endless:
        reads = 0

        def read(self, size: int = -1) -> bytes:
            self.reads += 1
            return b"x" * size

    store = LocalDiskStorage(tmp_path)
    source = Endless()
    with pytest.raises(DocumentTooLarge):
        store.receive(new_key(), source, max_bytes=100_000)  # type: ignore[arg-type]
    assert source.reads < 10  # it did not read on
    with pytest.raises(InvalidFacts, match="empty"):
        store.receive(new_key(), io.BytesIO(b""), max_bytes=100)
    assert store.incoming() == []
    staged = store.receive(new_key(), io.BytesIO(b"abc"), max_bytes=3)
    assert (staged.size, staged.sha256[:8]) == (3, "ba7816bf")
