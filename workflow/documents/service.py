"""Document use cases: upload a document or a new version, list a case's documents,
open a version for download. Services flush; `upload` runs its own transactions.

Access follows the case (a case the caller may not see does not exist), with
`document.upload` / `document.read`; an unredacted document exists only for callers
with `document.read_unredacted`. Versions are immutable (an upload adds N+1).
Uploads and downloads of unredacted documents are audited in the case's
partnership chain. A document is not a state-machine command: the case's version
is never touched, so an upload never conflicts with the sub-group's commands.
"""

from __future__ import annotations

import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO, TypeVar

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.access.permissions import Perm
from workflow.access.principal import Principal
from workflow.access.scoping import require, visible_case
from workflow.cases.recording import audit_case
from workflow.cases.refusals import record_refusal
from workflow.context import Context
from workflow.core.errors import DocumentNotFound, DomainError, StorageUnavailable
from workflow.documents import UploadRequest
from workflow.documents.sniff import check_filename, check_matches, detect
from workflow.documents.storage import Staged, Storage, new_key
from workflow.storage.database import Database, DatabaseUnavailable
from workflow.storage.models import Case, Document, DocumentVersion

UPLOAD, DOWNLOAD = "upload_document", "download_document"
T = TypeVar("T")
log = logging.getLogger(__name__)


Recorded = tuple[Document, list[DocumentVersion]]
# The caller's transaction for the recording step: it runs `work` and commits it
# (rendering its answer and keeping it for replays of the same request, identified by
# the fingerprint of what was uploaded), and says whether it was such a replay.
Commit = Callable[[Callable[[Session], Recorded], bytes], tuple[T, bool]]


@dataclass(frozen=True)
class Received:
    """Content received into the store's scratch space and found acceptable."""

    staged: Staged
    filename: str
    media_type: str


def authorize_upload(
    database: Database, ctx: Context, case_id: uuid.UUID, document_id: uuid.UUID | None
) -> None:
    """Refuse (audited) a caller who may not upload to this case or document: called
    before the request's body is read, so a refused upload is never received."""
    _audited(
        database,
        ctx,
        case_id,
        lambda: database.read(lambda s: _check(s, ctx, case_id, document_id)),
    )


def upload(
    database: Database,
    storage: Storage,
    ctx: Context,
    req: UploadRequest,
    commit: Commit[T],
    *,
    max_bytes: int,
) -> tuple[T, bool]:
    """Check access (before reading any content), receive the content into its part
    file and check it, then in one audited, idempotent transaction record the version;
    only after that commit is the file moved into place. A refusal is audited (in a
    transaction of its own) and leaves nothing behind. The outcome, and whether it is
    an idempotent replay."""
    key = new_key()
    got = _audited(
        database, ctx, req.case_id, lambda: _receive(database, storage, ctx, req, key, max_bytes)
    )

    def work(session: Session) -> Recorded:
        document = record_upload(session, ctx, req, got, key)
        return document, _versions(session, [document.id])[document.id]

    try:
        outcome, replayed = commit(work, _fingerprint(req, got))
    except BaseException:
        _settle(database, storage, key)
        raise
    if replayed:
        storage.discard(key)
    else:
        # After the commit: a crash before this line leaves the part of a committed
        # version, which the clean-up moves into place (workflow/documents/cleanup.py).
        storage.place(key)
    return outcome, replayed


def _receive(
    database: Database, storage: Storage, ctx: Context, req: UploadRequest, key: str, max_bytes: int
) -> Received:
    database.read(lambda s: _check(s, ctx, req.case_id, req.document_id))
    filename = check_filename(req.filename)
    staged = storage.receive(key, req.source, max_bytes)
    try:
        with staged.path.open("rb") as content:
            return Received(staged, filename, check_matches(detect(content), filename))
    except BaseException:
        storage.discard(key)
        raise


def _check(
    session: Session, ctx: Context, case_id: uuid.UUID, document_id: uuid.UUID | None
) -> None:
    _target(session, ctx.principal, case_id, document_id)


def _audited(database: Database, ctx: Context, case_id: uuid.UUID, step: Callable[[], T]) -> T:
    """`step()`; a domain refusal is audited in a transaction of its own, then raised."""
    try:
        return step()
    except DomainError as exc:
        audit_refused_upload(database, ctx, case_id, exc)
        raise


def audit_refused_upload(
    database: Database, ctx: Context, case_id: uuid.UUID, exc: DomainError
) -> None:
    """Audit the refusal `exc` of an upload, in a transaction of its own (the caller
    raises it). If the record cannot be written either (the database unavailable, as on
    a full disk it shares with the store), the refusal is still the answer."""
    if isinstance(exc, DatabaseUnavailable):
        return
    outcome = f"refused:{type(exc).__name__}"
    try:
        database.write(lambda s: record_refusal(s, ctx, UPLOAD, case_id, outcome))
    except DatabaseUnavailable:
        log.warning("the refused upload (%s) could not be audited", outcome)


def _settle(database: Database, storage: Storage, key: str) -> None:
    """After the recording transaction failed: its commit may still have happened (an
    answer cut off). Committed: place the part; not: discard it; unknown (the database
    unreachable): leave it for the clean-up, which decides the same way later."""
    recorded = _recorded(database, key)
    if recorded is None:
        return
    if recorded:
        with contextlib.suppress(StorageUnavailable):  # the clean-up places it later
            storage.place(key)
    else:
        storage.discard(key)


def record_upload(
    session: Session, ctx: Context, req: UploadRequest, got: Received, key: str
) -> Document:
    """The document (new, or locked to number its next version) with the version added."""
    case, document = _target(session, ctx.principal, req.case_id, req.document_id, lock=True)
    if document is None:
        assert req.new is not None
        new = req.new
        document = Document(
            case_id=case.id,
            kind=new.kind.value,
            title=new.title,
            redacted=new.redacted,
            created_at=ctx.now,
            created_by=ctx.actor,
        )
        session.add(document)
        session.flush()
    latest = session.scalar(
        select(func.max(DocumentVersion.version)).where(DocumentVersion.document_id == document.id)
    )
    version = DocumentVersion(
        document_id=document.id,
        version=(latest or 0) + 1,
        filename=got.filename,
        media_type=got.media_type,
        size=got.staged.size,
        sha256=got.staged.sha256,
        storage_key=key,
        uploaded_at=ctx.now,
        uploaded_by=ctx.actor,
    )
    session.add(version)
    session.flush()
    _audit(session, ctx, case, UPLOAD, document, version)
    return document


def _fingerprint(req: UploadRequest, got: Received) -> bytes:
    """What makes two uploads the same request: the same fields and the same content
    (their multipart boundaries differ)."""
    new = req.new
    fields = [got.filename, got.staged.sha256, str(req.document_id)]
    fields += [new.kind.value, new.title, str(new.redacted)] if new else []
    return json.dumps(fields).encode()


def list_documents(
    session: Session, ctx: Context, case_id: uuid.UUID
) -> list[tuple[Document, list[DocumentVersion]]]:
    """The case's documents the caller may see, oldest first, each with its versions."""
    case = visible_case(session, ctx.principal, case_id)
    require(ctx.principal, Perm.DOCUMENT_READ, case)
    stmt = select(Document).where(Document.case_id == case.id)
    if not _sees_unredacted(ctx.principal, case):
        stmt = stmt.where(Document.redacted.is_(True))
    documents = list(session.scalars(stmt.order_by(Document.created_at, Document.id)))
    versions = _versions(session, [d.id for d in documents])
    return [(d, versions[d.id]) for d in documents]


def open_version(
    session: Session,
    ctx: Context,
    storage: Storage,
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    number: int,
) -> tuple[DocumentVersion, BinaryIO]:
    """One version and its content; a download of an unredacted document is audited."""
    case = visible_case(session, ctx.principal, case_id)
    require(ctx.principal, Perm.DOCUMENT_READ, case)
    document = _readable(session, ctx.principal, case, document_id)
    version = session.scalar(
        select(DocumentVersion).where(
            DocumentVersion.document_id == document.id, DocumentVersion.version == number
        )
    )
    if version is None:
        raise DocumentNotFound(f"document {document_id} has no version {number}")
    if not document.redacted:
        _audit(session, ctx, case, DOWNLOAD, document, version)
    # In the transaction: no audit record if the content cannot be opened
    # (StorageUnavailable, e.g. a committed version not yet moved into place).
    return version, storage.open(version.storage_key)


def _target(
    session: Session,
    principal: Principal,
    case_id: uuid.UUID,
    document_id: uuid.UUID | None,
    *,
    lock: bool = False,
) -> tuple[Case, Document | None]:
    case = visible_case(session, principal, case_id)
    require(principal, Perm.DOCUMENT_UPLOAD, case)
    if document_id is None:
        return case, None
    return case, _readable(session, principal, case, document_id, lock=lock)


def _readable(
    session: Session, principal: Principal, case: Case, doc_id: uuid.UUID, *, lock: bool = False
) -> Document:
    """The case's document if the caller may see it (locked: versions are numbered in turn)."""
    stmt = select(Document).where(Document.id == doc_id, Document.case_id == case.id)
    if lock and session.get_bind().dialect.name != "sqlite":
        stmt = stmt.with_for_update()  # SQLite: BEGIN IMMEDIATE already serialises writers
    document = session.scalar(stmt)
    if document is None or not (document.redacted or _sees_unredacted(principal, case)):
        raise DocumentNotFound(f"no document {doc_id} on this case")
    return document


def _sees_unredacted(principal: Principal, case: Case) -> bool:
    return principal.may(Perm.DOCUMENT_READ_UNREDACTED, case.partnership_id, case.id)


def _versions(
    session: Session, document_ids: list[uuid.UUID]
) -> dict[uuid.UUID, list[DocumentVersion]]:
    out: dict[uuid.UUID, list[DocumentVersion]] = {d: [] for d in document_ids}
    if document_ids:
        stmt = (
            select(DocumentVersion)
            .where(DocumentVersion.document_id.in_(document_ids))
            .order_by(DocumentVersion.document_id, DocumentVersion.version)
        )
        for version in session.scalars(stmt):
            out[version.document_id].append(version)
    return out


def _audit(
    session: Session, ctx: Context, case: Case, action: str, doc: Document, v: DocumentVersion
) -> None:
    """Ids, numbers and the checksum only: titles and filenames may name people."""
    audit_case(
        session,
        ctx,
        case,
        action,
        {"document_id": str(doc.id), "version": v.version, "sha256": v.sha256},
    )


def _recorded(database: Database, key: str) -> bool | None:
    """Whether a version with this storage key was committed (None: cannot tell)."""
    try:
        found = database.read(
            lambda s: s.scalar(select(DocumentVersion.id).where(DocumentVersion.storage_key == key))
        )
    except Exception:
        return None
    return found is not None
