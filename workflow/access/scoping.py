"""Applying the permission table to cases: load a case the caller may see, or
answer as if it did not exist; check a permission, or refuse with 403."""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, bindparam, false, or_, select, true
from sqlalchemy.orm import Session

from workflow.access.disclosure import shows_personal
from workflow.access.permissions import Perm, command, refusal
from workflow.access.principal import Principal
from workflow.core.errors import CaseNotFound, Forbidden, InvalidFacts
from workflow.storage import repository
from workflow.storage.models import Case, Partnership


def visible_case(
    session: Session, principal: Principal, case_id: uuid.UUID, *, for_update: bool = False
) -> Case:
    """The case if the caller's scopes reach it; CaseNotFound otherwise (same answer
    as for a case that does not exist)."""
    load = repository.get_case_for_update if for_update else repository.get_case
    try:
        case = load(session, case_id)
    except CaseNotFound:
        raise CaseNotFound(f"no case {case_id}") from None
    if not principal.can_see(case.partnership_id, case.id):
        raise CaseNotFound(f"no case {case_id}")
    return case


_CASE_WITH_PARTNERSHIP = (
    select(Case, Partnership)
    .join(Partnership, Partnership.id == Case.partnership_id)
    .where(Case.id == bindparam("wanted_case"))
)
_CASE_WITH_PARTNERSHIP_LOCKED = _CASE_WITH_PARTNERSHIP.with_for_update(of=Case)


def case_for_command(
    session: Session, principal: Principal, case_id: uuid.UUID
) -> tuple[Case, Partnership]:
    """`visible_case(..., for_update=True)` and the case's partnership, in one query
    (both then in the session's identity map). PostgreSQL: the case row is locked
    (SELECT ... FOR UPDATE OF case); SQLite: the write transaction already holds the
    database's write lock (BEGIN IMMEDIATE)."""
    stmt = (
        _CASE_WITH_PARTNERSHIP
        if session.get_bind().dialect.name == "sqlite"
        else _CASE_WITH_PARTNERSHIP_LOCKED
    )
    row = session.execute(stmt, {"wanted_case": case_id}).first()
    if row is None or not principal.can_see(row[0].partnership_id, row[0].id):
        raise CaseNotFound(f"no case {case_id}")
    return row[0], row[1]


def require(principal: Principal, perm: str, case: Case) -> None:
    if not principal.may(perm, case.partnership_id, case.id):
        raise Forbidden(f"{refusal(perm)} on this case")


def require_command(principal: Principal, trigger: str, case: Case) -> None:
    require(principal, command(trigger), case)


def sees_personal_data(principal: Principal, case: Case, action_owner: str | None = None) -> bool:
    """The rule of workflow/access/disclosure.py for a loaded case (and one of its
    actions, by its `owner_username`)."""
    return shows_personal(principal, case.partnership_id, case.id, action_owner=action_owner)


def case_filter(principal: Principal, perm: str = Perm.CASE_LIST) -> ColumnElement[bool]:
    """SQL condition selecting exactly the cases on which the caller holds `perm`
    (by default: the cases it may list)."""
    if principal.has_national_scope(perm):
        return true()
    own = principal.partnerships_with(perm)
    assigned = principal.partnerships_with(perm, scopes=("assigned",))
    clauses: list[ColumnElement[bool]] = []
    if own:
        clauses.append(Case.partnership_id.in_(own))
    if assigned and principal.assigned_cases:
        clauses.append(Case.id.in_(principal.assigned_cases) & Case.partnership_id.in_(assigned))
    return or_(*clauses) if clauses else false()


def partnership_for_new_case(
    session: Session, principal: Principal, code: str | None, perm: str | None = None
) -> Partnership:
    """Where a new case is opened: the named partnership, or the caller's only one in
    which `perm` (default: logging an incident) is granted."""
    perm = perm or command("log_incident")
    allowed = principal.partnerships_with(perm)
    if code is not None:
        grant = next((g for g in principal.grants if g.partnership_code == code), None)
        if grant is None:
            raise InvalidFacts(f"you are not a member of partnership {code!r}", "partnership")
        if grant.partnership_id not in allowed:
            raise Forbidden(refusal(perm, code))
        partnership = session.get(Partnership, grant.partnership_id)
    elif len(allowed) == 1:
        partnership = session.get(Partnership, next(iter(allowed)))
    elif not allowed:
        raise Forbidden(refusal(perm))
    else:
        codes = sorted(g.partnership_code for g in principal.grants if g.partnership_id in allowed)
        raise InvalidFacts(f"name the partnership: one of {', '.join(codes)}", "partnership")
    assert partnership is not None
    return partnership
