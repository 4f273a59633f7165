"""Document endpoints: upload a document or a new version (multipart), list a case's
documents, download one version's bytes.

Thin by design: the rules (access, content type by content, size, filenames,
immutable versions, audit) live in workflow/documents. The caller is authenticated
and checked against the case before the multipart body is read (the form is parsed
in the route, not declared as a parameter, which FastAPI would read first). An
upload is received, checked, recorded, committed and moved into place before the
201 is sent.
"""

# No `from __future__ import annotations`: FastAPI inspects the form models.
import re
import uuid
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Annotated, Any, BinaryIO
from urllib.parse import quote

from fastapi import APIRouter, Header, HTTPException, Path, Request, Response, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from api.deps import Ctx, Services, ServicesDep
from api.errors import responses
from api.gateway import Outcome, transact
from api.replays import IdempotencyRequest
from workflow.context import Context
from workflow.core.inputs import Input
from workflow.documents import DocumentKind, NewDocument, UploadRequest, service
from workflow.documents.sniff import KINDS
from workflow.documents.storage import CHUNK, Storage, store_error
from workflow.storage.models import Document, DocumentVersion

router = APIRouter(prefix="/api/v1", tags=["documents"])

# The upload paths, whose request bodies may reach max_upload_bytes + MULTIPART_OVERHEAD
# (api/middleware.py); every other body keeps the general max_body_bytes.
UPLOAD_PATHS = re.compile(r"^/api/v1/cases/[^/]+/documents(?:/[^/]+/versions)?/?$")
MULTIPART_OVERHEAD = 64_000
UPLOAD_ERRORS = responses(401, 403, 404, 413, 415, 422, 503, 507)


class VersionOut(BaseModel):
    number: int
    filename: str
    media_type: str = Field(description="Detected from the content, never taken from the client.")
    size: int
    sha256: str
    uploaded_at: datetime
    uploaded_by: str
    content_url: str


class DocumentOut(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    kind: DocumentKind
    title: str
    redacted: bool
    created_at: datetime
    created_by: str
    versions: list[VersionOut]

    @classmethod
    def of(cls, document: Document, versions: list[DocumentVersion]) -> "DocumentOut":
        base = f"/api/v1/cases/{document.case_id}/documents/{document.id}/versions"
        fields = ("filename", "media_type", "size", "sha256", "uploaded_at", "uploaded_by")
        return cls(
            **{k: getattr(document, k) for k in ("id", "case_id", "title", "redacted")},
            kind=DocumentKind(document.kind),
            created_at=document.created_at,
            created_by=document.created_by,
            versions=[
                VersionOut(
                    number=v.version,
                    content_url=f"{base}/{v.version}/content",
                    **{k: getattr(v, k) for k in fields},
                )
                for v in versions
            ],
        )


class DocumentList(BaseModel):
    items: list[DocumentOut]


class NewDocumentForm(Input):
    file: UploadFile = Field(
        description="PDF, DOCX, ODT, UTF-8 text, PNG or JPEG; the type is detected from the "
        "content and the filename's extension must agree with it."
    )
    kind: DocumentKind
    title: str = Field(min_length=1, max_length=200, pattern=r"\S")
    redacted: bool = Field(
        description="false: the unredacted document, only for roles that may read "
        "unredacted documents."
    )


class NewVersionForm(Input):
    file: UploadFile


Form = NewDocumentForm | NewVersionForm


IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=8,
        max_length=128,
        pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Makes the upload safe to retry: a replay within 24 hours (same "
        "fields, same content) returns the first response without a second version.",
    ),
]


def _storage(services: Services) -> Storage:
    if services.storage is None:
        raise RuntimeError("no document storage configured (see api/main.py lifespan)")
    return services.storage


def _render(document: Document, versions: list[DocumentVersion]) -> Outcome:
    out = DocumentOut.of(document, versions)
    return Outcome(201, out.model_dump(mode="json"), location=out.versions[-1].content_url)


def _multipart(model: type[BaseModel]) -> dict[str, Any]:
    """The request body's OpenAPI entry: the form is read in the route, not declared
    as a parameter (FastAPI would read it before authenticating the caller)."""
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    schema.pop("$defs", None)
    content = {"multipart/form-data": {"schema": schema}}
    return {"requestBody": {"required": True, "content": content}}


async def _read_form(
    request: Request, services: Services, ctx: Context, case_id: uuid.UUID, model: type[Form]
) -> tuple[Form, FormData]:
    """The validated form, read only now that the caller may upload here. A disk that
    fails while the form parser spools the file is the store's refusal (audited); any
    other parse failure is the client's (400, or 413 from the size limit)."""
    try:
        form = await request.form(max_files=1, max_fields=10)
    except OSError as exc:
        refusal = store_error(exc)
        await services.call(service.audit_refused_upload, services.database, ctx, case_id, refusal)
        raise refusal from None
    except HTTPException:
        raise
    except Exception as exc:
        raise HTTPException(400, "There was an error parsing the body") from exc
    try:
        return model.model_validate(dict(form)), form
    except ValidationError as exc:
        await form.close()
        errors: list[dict[str, Any]] = []
        for error in exc.errors(include_url=False):
            errors.append({**error, "loc": ("body", *error["loc"])})
        raise RequestValidationError(errors) from None


async def _upload(
    services: Services,
    ctx: Context,
    request: Request,
    response: Response,
    case_id: uuid.UUID,
    document_id: uuid.UUID | None,
    idempotency_key: str | None,
) -> DocumentOut:
    database = services.database
    await services.call(service.authorize_upload, database, ctx, case_id, document_id)
    model: type[Form] = NewVersionForm if document_id else NewDocumentForm
    form, raw = await _read_form(request, services, ctx, case_id, model)
    try:
        new = None
        if isinstance(form, NewDocumentForm):
            new = NewDocument(form.kind, form.title.strip(), form.redacted)
        req = UploadRequest(
            case_id=case_id,
            filename=form.file.filename or "",
            source=form.file.file,
            new=new,
            document_id=document_id,
        )
        path = request.url.path

        def commit(
            work: Callable[[Session], service.Recorded], fingerprint: bytes
        ) -> tuple[Outcome, bool]:
            idem = None
            if idempotency_key is not None:
                idem = IdempotencyRequest.of(idempotency_key, "POST", path, fingerprint)
            return transact(
                database,
                ctx,
                action=service.UPLOAD,
                case_id=case_id,
                work=lambda session: _render(*work(session)),
                idem=idem,
            )

        max_bytes: int = request.app.state.max_upload_bytes
        outcome, replayed = await services.call(
            service.upload, database, _storage(services), ctx, req, commit, max_bytes=max_bytes
        )
    finally:
        await raw.close()  # the parser's spooled copy of the file
    response.status_code = outcome.status_code
    if outcome.location:
        response.headers["Location"] = outcome.location
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return DocumentOut.model_validate(outcome.body)


@router.post(
    "/cases/{case_id}/documents",
    status_code=201,
    response_model=DocumentOut,
    summary="Upload a document",
    responses=UPLOAD_ERRORS,
    openapi_extra=_multipart(NewDocumentForm),
)
async def upload_document(
    case_id: uuid.UUID,
    services: ServicesDep,
    ctx: Ctx,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> DocumentOut:
    """Attach a new document to the case, with its first version. 413 over the size
    limit, 415 when the content is not an allowed type or does not match the filename's
    extension, 422 for an empty file or an unsafe filename, 507 when the document store
    is full. The caller is authenticated and checked before the body is read. The
    case's version is not changed."""
    return await _upload(services, ctx, request, response, case_id, None, idempotency_key)


@router.post(
    "/cases/{case_id}/documents/{document_id}/versions",
    status_code=201,
    response_model=DocumentOut,
    summary="Upload a new version of a document",
    responses=UPLOAD_ERRORS,
    openapi_extra=_multipart(NewVersionForm),
)
async def upload_version(
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    services: ServicesDep,
    ctx: Ctx,
    request: Request,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> DocumentOut:
    """Add version N+1 of the document; earlier versions stay unchanged and downloadable."""
    return await _upload(services, ctx, request, response, case_id, document_id, idempotency_key)


@router.get(
    "/cases/{case_id}/documents",
    response_model=DocumentList,
    summary="List a case's documents",
    responses=responses(401, 403, 404, 422, 503),
)
async def list_documents(case_id: uuid.UUID, services: ServicesDep, ctx: Ctx) -> DocumentList:
    """The documents you may see, oldest first, each with every version. Unredacted
    documents are listed only for roles that may read them."""

    def run(session: Session) -> DocumentList:
        found = service.list_documents(session, ctx, case_id)
        return DocumentList(items=[DocumentOut.of(d, v) for d, v in found])

    return await services.read(run)


DOWNLOAD_OK: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The version's bytes, with the media type detected at upload.",
        "content": {
            media.split(";")[0]: {"schema": {"type": "string", "format": "binary"}}
            for media in KINDS
        },
    }
}


@router.get(
    "/cases/{case_id}/documents/{document_id}/versions/{number}/content",
    response_class=StreamingResponse,
    summary="Download one version of a document",
    responses={**DOWNLOAD_OK, **responses(401, 403, 404, 422, 503)},
)
async def download_version(
    case_id: uuid.UUID,
    document_id: uuid.UUID,
    number: Annotated[int, Path(ge=1, le=1_000_000)],
    services: ServicesDep,
    ctx: Ctx,
) -> StreamingResponse:
    """The bytes of one version, as an attachment; `ETag` is its SHA-256. Downloading
    an unredacted document is audited; to other roles it does not exist (404)."""
    storage = _storage(services)
    version, content = await services.write(
        lambda s: service.open_version(s, ctx, storage, case_id, document_id, number)
    )
    headers = {
        "Content-Disposition": content_disposition(version.filename),
        "Content-Length": str(version.size),
        "ETag": f'"{version.sha256}"',
        "Cache-Control": "no-store",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
    }
    return StreamingResponse(_chunks(content), media_type=version.media_type, headers=headers)


def _chunks(content: BinaryIO) -> Iterator[bytes]:
    with content:
        while chunk := content.read(CHUNK):
            yield chunk


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback and the exact name as RFC 5987 UTF-8 (RFC 6266)."""
    fallback = "".join(c if " " <= c <= "~" and c not in '"\\%' else "_" for c in filename)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"
