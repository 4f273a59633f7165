"""Entity tags for cheap polling, derived from versions, never from a rendered body.

A case's tag is `"<version>.<YYYYMMDD>.<p|s>"`: its version, today in Europe/London
(deadline statuses are relative to today) and whether the caller gets the personal
(p) or summary (s) representation. The timeline's is `"<version>.<p|s>"`; next
actions' `"<version>.r<hash of the roles reaching the case>"`. Each is looked up with
one narrow query (`case_stamp`) so that a matching `If-None-Match` is answered
without loading or rendering anything, and only for a case the caller may see.

A list's tag hashes a change counter of the caller's visible cases (how many, and
the sum of their versions: every change of a case adds exactly one to its version),
the query, today and the caller's grants. The sum is used rather than the largest
timeline event id because on PostgreSQL ids are not committed in id order across
partnerships: a late commit of a smaller id would not move a maximum.

Not in any tag: configuration read at start-up (config/calendar.yaml closure days,
the RAG amber threshold) and `casereview deadlines refresh`; after changing them a
client holding a tag keeps its copy until the case's next change or the next day.
A case's tag distinguishes only personal from summary callers, so its
`allowed_actions` can lag a same-day change of a caller's roles within one of them.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Connection, bindparam, func, select
from sqlalchemy.orm import Session

from workflow.access.disclosure import shows_personal
from workflow.access.permissions import Perm
from workflow.access.principal import Principal
from workflow.core.errors import CaseNotFound
from workflow.storage.models import Case, CaseTally

_TAG = re.compile(r'(?:W/)?("[^"]*")')
_CASE = Case.__table__.c
# Built once: constructing the statement cost as much as running it (py-spy, the 304 path).
# Its columns, in this order, are what `stamp_from_row` reads; parameter `case_id`.
STAMP = select(_CASE.version, _CASE.partnership_id).where(_CASE.id == bindparam("case_id"))


@dataclass(frozen=True)
class CaseStamp:
    """What a case's tags are made of, as one caller sees the case."""

    case_id: uuid.UUID
    version: int
    personal: bool  # the caller gets the personal representation (same rule as reads)
    roles: tuple[str, ...]  # the caller's roles whose scope reaches the case, sorted


def case_stamp(
    session: Session | Connection, principal: Principal, case_id: uuid.UUID
) -> CaseStamp:
    """One query: the case's version and partnership; CaseNotFound unless the caller
    may see the case (the same answer as for a case that does not exist). Takes a Core
    Connection as well as a Session: a conditional GET needs no ORM."""
    row = session.execute(STAMP, {"case_id": case_id}).one_or_none()
    return stamp_from_row(principal, case_id, row)


def stamp_from_row(
    principal: Principal, case_id: uuid.UUID, row: Sequence[Any] | None
) -> CaseStamp:
    """The stamp from a row of `STAMP` (version, partnership id) read by any means
    (a Session, a Core connection, the event loop's reader: workflow/storage/loop_reader.py);
    CaseNotFound for no row or a case the caller may not see."""
    if row is None or not principal.can_see(row[1], case_id):
        raise CaseNotFound(f"no case {case_id}")
    return stamp_of(principal, case_id, row[1], row[0])


def stamp_of(
    principal: Principal, case_id: uuid.UUID, partnership_id: uuid.UUID, version: int
) -> CaseStamp:
    personal = shows_personal(principal, partnership_id, case_id)  # without loading the case
    roles = tuple(sorted({g.role for g in principal.grants_reaching(partnership_id, case_id)}))
    return CaseStamp(case_id, version, personal, roles)


def _rep(personal: bool) -> str:
    return "p" if personal else "s"


def case_tag(version: int, today: date, personal: bool) -> str:
    """Version, day (deadline statuses count from today) and representation. A role
    change within the same representation can leave `allowed_actions` stale until the
    next change or day; commands enforce permissions regardless."""
    # not `{today:%Y%m%d}`: strftime was a measurable part of a 304 (py-spy)
    return f'"{version}.{today.year:04d}{today.month:02d}{today.day:02d}.{_rep(personal)}"'


def timeline_tag(version: int, personal: bool) -> str:
    return f'"{version}.{_rep(personal)}"'


def next_actions_tag(version: int, roles: Iterable[str]) -> str:
    return f'"{version}.r{_digest(",".join(sorted(roles)))[:10]}"'


def list_tag(
    session: Session, principal: Principal, query: Iterable[tuple[str, str]], today: date
) -> str:
    """The tag of a page of `GET /cases` for this caller, from its change counter."""
    count, total = change_counter(session, principal)
    parts = [
        f"{count}.{total}",
        today.isoformat(),
        "&".join(f"{k}={v}" for k, v in sorted(query)),
        grants_digest(principal),
    ]
    return f'"c{_digest("|".join(parts))[:24]}"'


def change_counter(session: Session, principal: Principal) -> tuple[int, int]:
    """How many cases the caller may list, and the sum of their versions.

    Read from `case_tally` (per partnership, kept by triggers: migration 0007) for the
    partnerships the caller sees whole, so the cost does not grow with the number of
    cases; only cases reached by assignment alone are summed from `case`."""
    if principal.has_national_scope(Perm.CASE_LIST):
        count, total = session.execute(
            select(
                func.coalesce(func.sum(CaseTally.cases), 0),
                func.coalesce(func.sum(CaseTally.version_sum), 0),
            )
        ).one()
        return int(count), int(total)
    own = principal.partnerships_with(Perm.CASE_LIST)
    count = total = 0
    if own:
        c, t = session.execute(
            select(
                func.coalesce(func.sum(CaseTally.cases), 0),
                func.coalesce(func.sum(CaseTally.version_sum), 0),
            ).where(CaseTally.partnership_id.in_(own))
        ).one()
        count, total = int(c), int(t)
    assigned = principal.partnerships_with(Perm.CASE_LIST, scopes=("assigned",)) - own
    if assigned and principal.assigned_cases:
        c, t = session.execute(
            select(func.count(Case.id), func.coalesce(func.sum(Case.version), 0)).where(
                Case.id.in_(principal.assigned_cases), Case.partnership_id.in_(assigned)
            )
        ).one()
        count, total = count + int(c), total + int(t)
    return count, total


def grants_digest(principal: Principal) -> str:
    """Changes whenever what the caller may see changes: roles, partnerships, assignments."""
    grants = sorted(f"{g.partnership_id}:{g.role}" for g in principal.grants)
    assigned = sorted(str(c) for c in principal.assigned_cases)
    return _digest(";".join(grants) + "/" + ";".join(assigned))[:16]


def matches(if_none_match: str | None, tag: str, *, star: bool = True) -> bool:
    """RFC 9110 13.1.2: `*` (unless `star` is False), or any listed tag equal by weak
    comparison."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return star
    return tag.removeprefix("W/") in _TAG.findall(if_none_match)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
