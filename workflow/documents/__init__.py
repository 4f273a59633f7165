"""Documents of a case: what an upload is (sniff), where content lives (storage),
and the use cases (service). This module: the vocabulary they share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum
from typing import BinaryIO


class DocumentKind(StrEnum):
    DRAFT_REPORT = "draft_report"
    FINAL_REPORT = "final_report"
    EXECUTIVE_SUMMARY = "executive_summary"
    IMPROVEMENT_REPORT = "improvement_report"
    MEDIA_STATEMENT = "media_statement"
    LEARNING_LEAFLET = "learning_leaflet"
    TERMS_OF_REFERENCE = "terms_of_reference"
    EVIDENCE = "evidence"
    OTHER = "other"


@dataclass(frozen=True)
class NewDocument:
    kind: DocumentKind
    title: str
    redacted: bool


@dataclass(frozen=True)
class UploadRequest:
    """One upload: a new document (`new`) or a new version of `document_id`."""

    case_id: uuid.UUID
    filename: str
    source: BinaryIO
    new: NewDocument | None = None
    document_id: uuid.UUID | None = None
