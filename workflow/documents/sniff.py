"""What an upload really is, decided by its bytes (never by the client's Content-Type
or filename), and whether its filename is safe and agrees with its content. Pure.

Allowed: PDF (`%PDF-`), DOCX (a zip holding `[Content_Types].xml` and `word/`), ODT
(a zip whose first entry `mimetype` reads the ODF text type), PNG, JPEG and plain
text (valid UTF-8 without NUL bytes that does not open like HTML/XML markup).
"""

from __future__ import annotations

import codecs
import re
import unicodedata
import zipfile
import zlib
from typing import BinaryIO

from workflow.core.errors import InvalidFacts, UnsupportedDocument

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ODT = "application/vnd.oasis.opendocument.text"
TEXT = "text/plain; charset=utf-8"
PNG = "image/png"
JPEG = "image/jpeg"

# media type -> (a short name for messages, the filename extensions that may carry it)
KINDS: dict[str, tuple[str, tuple[str, ...]]] = {
    PDF: ("a PDF", (".pdf",)),
    DOCX: ("a Word document (DOCX)", (".docx",)),
    ODT: ("an OpenDocument text (ODT)", (".odt",)),
    TEXT: ("plain text", (".txt", ".text", ".md", ".csv")),
    PNG: ("a PNG image", (".png",)),
    JPEG: ("a JPEG image", (".jpg", ".jpeg")),
}
ALLOWED = "PDF, DOCX, ODT, plain text (UTF-8), PNG or JPEG"
MAX_FILENAME = 255
CHUNK = 1 << 16

_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
_ZIP_MAGIC = b"PK\x03\x04"
_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zlib.error,
    OSError,
    EOFError,
    ValueError,
    RuntimeError,  # encrypted
    NotImplementedError,  # unsupported compression
)
# What browsers take for HTML or XML (WHATWG MIME sniffing): markup is not plain text.
_MARKUP = re.compile(
    r"\A[\t\n\f\r ]*(?:<\?xml|<!--|<!doctype\s+html|"
    r"<(?:html|head|script|iframe|h1|div|font|table|a|style|title|b|body|br|p|svg)[\s>/])",
    re.IGNORECASE,
)


def detect(stream: BinaryIO) -> str | None:
    """The media type of a seekable stream's content, or None when it is not allowed."""
    stream.seek(0)
    head = stream.read(8)
    if not head:
        return None
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(_PNG_MAGIC):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(_ZIP_MAGIC):
        return _zip_type(stream)
    return TEXT if _is_plain_text(stream) else None


def _zip_type(stream: BinaryIO) -> str | None:
    stream.seek(0)
    try:
        with zipfile.ZipFile(stream) as archive:
            entries = archive.infolist()
            if entries and entries[0].filename == "mimetype":
                with archive.open(entries[0]) as first:
                    return ODT if first.read(len(ODT) + 1) == ODT.encode() else None
            names = {e.filename for e in entries}
            if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
                return DOCX
    except _ZIP_ERRORS:
        return None
    return None


def _is_plain_text(stream: BinaryIO) -> bool:
    stream.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="strict")
    start = ""
    try:
        while chunk := stream.read(CHUNK):
            if b"\x00" in chunk:
                return False
            text = decoder.decode(chunk)
            if len(start) < 64:
                start += text[:64]
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return _MARKUP.match(start.removeprefix("\ufeff")) is None


def check_filename(name: str, field: str = "file.filename") -> str:
    """The filename if it is safe to keep and to offer back; InvalidFacts otherwise."""
    if not name or not name.strip():
        raise InvalidFacts("the file needs a filename", field)
    if len(name) > MAX_FILENAME:
        raise InvalidFacts(f"the filename is over {MAX_FILENAME} characters", field)
    if "/" in name or "\\" in name:
        raise InvalidFacts("the filename may not contain a path separator (/ or \\)", field)
    if ".." in name:
        raise InvalidFacts("the filename may not contain '..'", field)
    if any(unicodedata.category(c) in ("Cc", "Cf", "Cs", "Zl", "Zp") for c in name):
        raise InvalidFacts("the filename may not contain control characters", field)
    return name


def check_matches(media_type: str | None, filename: str, field: str = "file") -> str:
    """The detected media type, if it is allowed and the filename's extension agrees."""
    if media_type is None:
        raise UnsupportedDocument(f"the file's content is not an allowed type: {ALLOWED}", field)
    label, extensions = KINDS[media_type]
    if not filename.lower().endswith(extensions):
        raise UnsupportedDocument(
            f"the file's content is {label}, but its filename {filename!r} does not end in "
            f"{' or '.join(extensions)}",
            field,
        )
    return media_type
