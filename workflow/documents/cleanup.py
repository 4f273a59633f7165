"""Clean-up of what crashed uploads leave in the document store.

An upload's content is received into a part file and moved into place only after
the version recording it has committed (workflow/documents/storage.py), so after a
crash the store can hold:

- the part of a committed version (killed between the commit and the move): it is
  moved into place, whatever its age;
- the part of an upload that never committed (killed while receiving, checking or
  recording): removed once older than `older_than`, the age past which it cannot be
  an upload still running in another worker or on another host sharing the store (a
  part's last write comes just before its transaction, which the database timeouts
  bound to seconds; the default hour is far beyond that);
- with `everything`: placed files no version refers to (left by releases that
  placed content before committing, or by restoring an older database backup):
  removed when older than `older_than`. Never a file a committed version refers to.

Listing comes before the database is asked, so a file placed meanwhile (only ever
after its commit) is seen with its version. Safe to run from several processes at
once: placing is idempotent and removing a removed file is a no-op. Each run that
is asked for, and each start-up run that found something, writes one audit record
in the system chain with counts and the threshold only, never a file's name or key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.audit import chain as audit
from workflow.documents.storage import Storage
from workflow.storage.database import Database
from workflow.storage.models import DocumentVersion

ACTION = "clean_upload_leftovers"
BATCH = 500


@dataclass
class CleanupReport:
    restored: int = 0  # parts of committed versions moved into place
    removed_parts: int = 0  # parts of uploads that never committed
    removed_orphans: int = 0  # placed files no version refers to
    kept_recent: int = 0  # leftovers younger than the threshold: perhaps live uploads
    missing: int = 0  # committed versions with no content at all (`everything` only)

    @property
    def changed(self) -> int:
        return self.restored + self.removed_parts + self.removed_orphans

    def describe(self) -> str:
        return (
            f"{self.restored} committed upload(s) moved into place, {self.removed_parts} "
            f"unfinished upload(s) and {self.removed_orphans} unreferenced file(s) removed, "
            f"{self.kept_recent} recent leftover(s) kept, {self.missing} version(s) "
            "without content"
        )


def clean_uploads(
    database: Database,
    storage: Storage,
    now: datetime,
    *,
    older_than: timedelta,
    everything: bool = False,
    dry_run: bool = False,
    actor: str = "system",
    client: str = "maintenance",
    audit_always: bool = True,
) -> CleanupReport:
    """Settle the store's leftovers (see the module's docstring); with `dry_run`, only
    count them. Raises what the database raises when it cannot be read (nothing is
    removed then)."""
    parts = storage.incoming()
    placed = storage.stored() if everything else []
    if not parts and not placed and not everything:
        return CleanupReport()  # the usual start-up: nothing to ask the database
    keys = {e.key for e in parts if e.key} | {e.key for e in placed if e.key}
    committed = database.read(lambda s: _committed(s, keys))
    cutoff, report = now - older_than, CleanupReport()
    # Counted when done by this run (or, dry, when it would be): a worker's start-up
    # racing another's does each file once between them.
    for entry in parts:
        if entry.key in committed:
            report.restored += dry_run or storage.place(entry.key)
        elif entry.modified <= cutoff:
            report.removed_parts += dry_run or storage.remove_incoming(entry.name)
        else:
            report.kept_recent += 1
    for entry in placed:
        if entry.key is None or entry.key in committed:
            continue
        if entry.modified <= cutoff:
            report.removed_orphans += dry_run or storage.delete(entry.key)
        else:
            report.kept_recent += 1
    if everything:
        report.missing = _missing(database, storage, {e.key for e in placed if e.key})
    if audit_always or report.changed:
        detail = {
            **asdict(report),
            "older_than_minutes": int(older_than.total_seconds() // 60),
            "everything": everything,
            "dry_run": dry_run,
        }
        database.write(lambda s: _audit(s, now, actor, client, detail))
    return report


def _committed(session: Session, keys: set[str]) -> set[str]:
    ordered, found = sorted(keys), set()
    for start in range(0, len(ordered), BATCH):
        chunk = ordered[start : start + BATCH]
        stmt = select(DocumentVersion.storage_key).where(DocumentVersion.storage_key.in_(chunk))
        found |= set(session.scalars(stmt))
    return found


def _missing(database: Database, storage: Storage, placed: set[str]) -> int:
    """Committed versions whose content is neither in place nor in a part (checked
    again one by one: a version committed after the listing is placed just after)."""
    keys = database.read(lambda s: set(s.scalars(select(DocumentVersion.storage_key))))
    return sum(1 for key in keys - placed if not (storage.exists(key) or storage.has_part(key)))


def _audit(
    session: Session, now: datetime, actor: str, client: str, detail: dict[str, object]
) -> None:
    audit.append(
        session,
        chain=audit.SYSTEM_CHAIN,
        occurred_at=now,
        actor=actor,
        action=ACTION,
        case_id=None,
        client=client,
        outcome="ok",
        detail=detail,
    )
