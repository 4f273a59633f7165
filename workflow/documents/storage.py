"""Where document content lives, behind a small interface so that an object store
can replace the local disk later, and how an upload is received into it.

Content is immutable: a key is written once (a fresh uuid per version, never
derived from client input) and never overwritten. An upload is first received
into a temporary file in the store's `scratch_dir`, with its size limited and its
SHA-256 computed as it streams; only after validation is it moved into place.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Protocol

from workflow.errors import DocumentTooLarge, InvalidFacts

CHUNK = 1 << 16
_KEY = re.compile(r"^[0-9a-f]{32}$")


class Storage(Protocol):
    """Immutable document content by key."""

    @property
    def scratch_dir(self) -> Path:
        """A local directory, on the store's filesystem, for uploads being received."""
        ...

    def put(self, key: str, path: Path) -> None:
        """Move the local file at `path` in as `key`; refuses an existing key."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The content of `key`, for reading (FileNotFoundError when absent)."""
        ...

    def delete(self, key: str) -> None:
        """Remove `key` if present (used only to undo a put whose record failed)."""
        ...

    def exists(self, key: str) -> bool: ...


def new_key() -> str:
    return uuid.uuid4().hex


class LocalDiskStorage:
    """Files under `root/<2 hex>/<32 hex>`; keys are checked, so no path leaves `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._scratch = self.root / ".incoming"
        self._scratch.mkdir(parents=True, exist_ok=True)

    @property
    def scratch_dir(self) -> Path:
        return self._scratch

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        path = self.root / key[:2] / key
        if not path.resolve().is_relative_to(self.root):
            raise ValueError(f"storage key {key!r} leaves the storage root")
        return path

    def put(self, key: str, path: Path) -> None:
        target = self._path(key)
        if target.exists():
            raise FileExistsError(f"storage key {key!r} already holds content")
        target.parent.mkdir(exist_ok=True)
        os.replace(path, target)  # same filesystem as scratch_dir: atomic
        _fsync_dir(target.parent)

    def open(self, key: str) -> BinaryIO:
        return self._path(key).open("rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be fsynced elsewhere
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Staged:
    """An upload received into a temporary file: its size and SHA-256."""

    path: Path
    size: int
    sha256: str

    def discard(self) -> None:
        self.path.unlink(missing_ok=True)


def receive(directory: Path, source: BinaryIO, max_bytes: int, field: str = "file") -> Staged:
    """Copy `source` into a new temporary file in `directory`, stopping as soon as it
    is over `max_bytes`. Refused (too large, empty): nothing is left behind."""
    fd, name = tempfile.mkstemp(dir=directory, prefix="upload-", suffix=".part")
    path, size, digest = Path(name), 0, hashlib.sha256()
    try:
        with os.fdopen(fd, "wb") as out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise DocumentTooLarge(
                        f"the file is over the limit of {max_bytes} bytes", field
                    )
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        if size == 0:
            raise InvalidFacts("the file is empty", field)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Staged(path, size, digest.hexdigest())
