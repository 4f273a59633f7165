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

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import BinaryIO

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.access.permissions import Perm
from workflow.access.principal import Principal
from workflow.database import Database, DatabaseUnavailable
from workflow.documents import UploadRequest
from workflow.documents.sniff import check_filename, check_matches, detect
from workflow.documents.storage import Staged, Storage, new_key, receive
from workflow.errors import DocumentNotFound, DomainError
from workflow.models import Case, Document, DocumentVersion
from workflow.services.access import require, visible_case
from workflow.services.base import Context
from workflow.services.idempotency import IdempotencyRequest, Outcome
from workflow.services.recording import audit_case
from workflow.services.runner import record_refusal, run_command

UPLOAD, DOWNLOAD = "upload_document", "download_document"


# The answer to an upload, from the document and all its versions (api renders it).
Render = Callable[[Document, list[DocumentVersion]], Outcome]


@dataclass(frozen=True)
class Received:
    """Content received into the store's scratch space and found acceptable."""

    staged: Staged
    filename: str
    media_type: str


def upload(
    database: Database,
    storage: Storage,
    ctx: Context,
    req: UploadRequest,
    render: Render,
    *,
    max_bytes: int,
) -> tuple[Outcome, bool]:
    """Check access (before reading any content), receive the content into a temporary
    file and check it, then in one audited, idempotent transaction record the version
    and move the file into place; if that transaction fails the file is removed. The
    outcome, and whether it is an idempotent replay."""
    staged: Staged | None = None
    try:
        try:
            database.read(lambda s: _target(s, ctx.principal, req.case_id, req.document_id))
            filename = check_filename(req.filename)
            staged = receive(storage.scratch_dir, req.source, max_bytes)
            with staged.path.open("rb") as content:
                got = Received(staged, filename, check_matches(detect(content), filename))
        except DomainError as exc:
            if not isinstance(exc, DatabaseUnavailable):
                outcome = f"refused:{type(exc).__name__}"
                database.write(lambda s: record_refusal(s, ctx, UPLOAD, req.case_id, outcome))
            raise
        key = new_key()

        def work(session: Session) -> Outcome:
            document = record_upload(session, ctx, req, got, key)
            if not storage.exists(key):  # a retried transaction has already moved it
                storage.put(key, got.staged.path)
            return render(document, _versions(session, [document.id])[document.id])

        idem = _idempotency(req, got)
        try:
            return run_command(
                database, ctx, action=UPLOAD, case_id=req.case_id, work=work, idem=idem
            )
        except BaseException:
            if not _recorded(database, key):
                storage.delete(key)
            raise
    finally:
        if staged is not None:
            staged.discard()


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


def _idempotency(req: UploadRequest, got: Received) -> IdempotencyRequest | None:
    """A replay is the same fields and the same content (multipart boundaries differ)."""
    if req.idempotency_key is None:
        return None
    new = req.new
    fields = [got.filename, got.staged.sha256, str(req.document_id)]
    fields += [new.kind.value, new.title, str(new.redacted)] if new else []
    body = json.dumps(fields).encode()
    return IdempotencyRequest.of(req.idempotency_key, "POST", req.path, body)


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
    return version, storage.open(version.storage_key)  # in the transaction: no audit if absent


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


def _recorded(database: Database, key: str) -> bool:
    """Whether a version with this storage key was committed after all (outcome unknown)."""
    try:
        found = database.read(
            lambda s: s.scalar(select(DocumentVersion.id).where(DocumentVersion.storage_key == key))
        )
    except Exception:
        return False
    return found is not None
