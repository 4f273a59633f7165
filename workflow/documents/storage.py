"""Where document content lives, behind a small interface so that an object store
can replace the local disk later, and how an upload is received into it.

Content is immutable: a key is written once (a fresh uuid per version, never
derived from client input) and never overwritten. An upload of key K is received
into `.incoming/K.part` in the store (size limited, SHA-256 computed as it streams,
fsynced) and moved to its place only after the transaction recording version K has
committed. A crash therefore leaves at most a part file: of a committed version (the
clean-up moves it into place) or of an upload that never committed (the clean-up
removes it once it is old enough not to be a live upload of another worker), never
a placed file without its version (workflow/documents/cleanup.py).

Failures of the store's filesystem become domain errors: `StorageFull` for no
space or quota left, `StorageUnavailable` for any other (api/errors.py: 507 / 503).
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO, Protocol

from workflow.core.errors import DocumentTooLarge, InvalidFacts, StorageFull, StorageUnavailable

CHUNK = 1 << 16
PART = ".part"
_KEY = re.compile(r"^[0-9a-f]{32}$")
_FULL = frozenset({errno.ENOSPC, errno.EDQUOT})


@dataclass(frozen=True)
class Staged:
    """An upload received into its part file: its size and SHA-256."""

    path: Path
    size: int
    sha256: str


@dataclass(frozen=True)
class Entry:
    """A file of the store: in place (`key`), or a part in the scratch space (`name`;
    `key` is None for a name that is not `<key>.part`, e.g. an older release's)."""

    name: str
    key: str | None
    modified: datetime


class Storage(Protocol):
    """Immutable document content by key, and the parts of uploads being received."""

    def receive(self, key: str, source: BinaryIO, max_bytes: int, field: str = "file") -> Staged:
        """Copy `source` into the durable part file of `key`, stopping as soon as it is
        over `max_bytes`. Refused (too large, empty, a store failure): nothing is left."""
        ...

    def place(self, key: str) -> bool:
        """Move the part of `key` to its place: only after its version has committed.
        Idempotent (done if it is already in place), so a clean-up may race the upload;
        True if this call moved it."""
        ...

    def discard(self, key: str) -> None:
        """Remove the part of `key` if present (its version was not recorded)."""
        ...

    def open(self, key: str) -> BinaryIO:
        """The content of `key`, for reading (StorageUnavailable when absent)."""
        ...

    def exists(self, key: str) -> bool: ...

    def has_part(self, key: str) -> bool: ...

    def delete(self, key: str) -> bool:
        """Remove placed content (only of a key no committed version refers to); True if
        this call removed it."""
        ...

    def incoming(self) -> list[Entry]:
        """Every file in the scratch space."""
        ...

    def remove_incoming(self, name: str) -> bool:
        """True if this call removed it."""
        ...

    def stored(self) -> list[Entry]:
        """Every placed file."""
        ...


def new_key() -> str:
    return uuid.uuid4().hex


def store_error(exc: OSError) -> StorageUnavailable:
    """The domain's word for a failure of the store's filesystem. The message names the
    condition only: an OSError's text holds a path."""
    if exc.errno in _FULL:
        return StorageFull("the document store is full; try again later")
    return StorageUnavailable(
        f"the document store failed ({errno.errorcode.get(exc.errno or 0, 'I/O error')}); "
        "try again later"
    )


class LocalDiskStorage:
    """Files under `root/<2 hex>/<32 hex>`, parts under `root/.incoming/<32 hex>.part`
    (the same filesystem, so a move is an atomic rename); keys are checked, so no path
    leaves `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root.resolve()
        self._scratch = self.root / ".incoming"
        self._scratch.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        path = self.root / key[:2] / key
        if not path.resolve().is_relative_to(self.root):
            raise ValueError(f"storage key {key!r} leaves the storage root")
        return path

    def _part(self, key: str) -> Path:
        if not _KEY.fullmatch(key):
            raise ValueError(f"not a storage key: {key!r}")
        return self._scratch / f"{key}{PART}"

    def _create(self, path: Path) -> BinaryIO:
        """A new file for writing (never an existing one), readable by this user only."""
        return os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb")

    def receive(self, key: str, source: BinaryIO, max_bytes: int, field: str = "file") -> Staged:
        path, size, digest = self._part(key), 0, hashlib.sha256()
        try:
            out = self._create(path)
        except OSError as exc:  # nothing created (an existing part is not ours to remove)
            raise store_error(exc) from None
        try:
            with out:
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
            _fsync_dir(self._scratch)  # the part's name too: its version may commit next
        except BaseException as exc:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
            if isinstance(exc, OSError):
                raise store_error(exc) from None
            raise
        return Staged(path, size, digest.hexdigest())

    def place(self, key: str) -> bool:
        part, target = self._part(key), self._path(key)
        try:
            if target.exists():  # placed already (by a clean-up, or a retry): immutable
                part.unlink(missing_ok=True)
                return False
            target.parent.mkdir(exist_ok=True)
            try:
                os.replace(part, target)
            except FileNotFoundError:
                if not target.is_file():  # neither part nor content: nothing to place
                    raise
                return False  # a concurrent clean-up moved it first
            _fsync_dir(target.parent)
        except OSError as exc:
            raise store_error(exc) from None
        return True

    def discard(self, key: str) -> None:
        with contextlib.suppress(OSError):
            self._part(key).unlink(missing_ok=True)

    def open(self, key: str) -> BinaryIO:
        try:
            return self._path(key).open("rb")
        except OSError as exc:
            raise store_error(exc) from None

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def has_part(self, key: str) -> bool:
        return self._part(key).is_file()

    def delete(self, key: str) -> bool:
        return _unlink(self._path(key))

    def incoming(self) -> list[Entry]:
        found = []
        for path in self._scratch.iterdir():
            stem = path.name.removesuffix(PART)
            key = stem if path.name.endswith(PART) and _KEY.fullmatch(stem) else None
            with contextlib.suppress(FileNotFoundError):  # placed or removed meanwhile
                if path.is_file():
                    found.append(Entry(path.name, key, _modified(path)))
        return found

    def remove_incoming(self, name: str) -> bool:
        path = self._scratch / name
        if path.parent != self._scratch or name in ("", ".", ".."):
            raise ValueError(f"not a file of the scratch space: {name!r}")
        return _unlink(path)

    def stored(self) -> list[Entry]:
        """Files laid out as `<2 hex>/<key>` only: anything else is not the store's."""
        found = []
        for directory in self.root.iterdir():
            if not (len(directory.name) == 2 and directory.is_dir()):
                continue
            for path in directory.iterdir():
                if _KEY.fullmatch(path.name) and path.name[:2] == directory.name:
                    with contextlib.suppress(FileNotFoundError):
                        found.append(Entry(path.name, path.name, _modified(path)))
        return found


def _unlink(path: Path) -> bool:
    try:
        path.unlink()
    except FileNotFoundError:  # removed meanwhile, e.g. by another worker's clean-up
        return False
    return True


def _modified(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def _fsync_dir(path: Path) -> None:
    if os.name != "posix":  # pragma: no cover - directories cannot be fsynced elsewhere
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
