"""The base of every input model: unknown fields rejected, text trimmed, NUL and
other control characters refused (PostgreSQL cannot store NUL, and no one types
one), and dates kept within the span a case can concern."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

# Serious Case Reviews began in 2006 (LSCB Regulations); nothing here predates 1990, and
# no deadline, plan or review-by date is decades away. Bounding dates also bounds the
# working-day arithmetic that runs on them.
EARLIEST = date(1990, 1, 1)
LATEST = date(2100, 12, 31)
CaseDate = Annotated[date, Field(ge=EARLIEST, le=LATEST)]
_CONTROL = {chr(c) for c in range(32)} - {"\n", "\r", "\t"}


def _has_control(value: Any) -> bool:
    if isinstance(value, str):
        return any(ch in _CONTROL for ch in value)
    if isinstance(value, dict):
        return any(_has_control(k) or _has_control(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_has_control(v) for v in value)
    return False


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @model_validator(mode="before")
    @classmethod
    def _no_control_characters(cls, data: Any) -> Any:
        if _has_control(data):
            raise ValueError("text may not contain control characters (such as NUL)")
        return data


def is_one_email_address(text: str) -> bool:
    """One plausible address (local@domain): what SMTP's RCPT TO and a header can carry
    safely; no list separators, spaces, angle brackets or line breaks."""
    local, at, domain = text.partition("@")
    return (
        bool(local and at and domain)
        and "@" not in domain
        and len(text) <= 320
        and not any(c in text for c in ' ,;<>\r\n\t"()[]\\')
    )
