"""Shared parameter types.

`IsoDate`: a calendar date written `YYYY-MM-DD`, as the schema says (`format: date`).
Pydantic's lax mode would also read a number as seconds since 1970 (`?due_before=0`
is 1970-01-01), so input that is not a date would be answered as if it were."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from pydantic import BeforeValidator

_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_only(value: Any) -> Any:
    if isinstance(value, date) or (isinstance(value, str) and _ISO_DATE.match(value)):
        return value
    raise ValueError("must be a date written YYYY-MM-DD")


IsoDate = Annotated[date, BeforeValidator(_iso_only)]
