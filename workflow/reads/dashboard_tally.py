"""Dashboard figures read from trigger-kept tallies instead of a scan of `case`.

`case_stage_tally` (migration 0009) counts cases per (partnership, stage), so cases by
stage over whole partnerships reads at most a row per (partnership, stage) instead of
an index entry per case. A scope that selects single cases (a caller with an
`assigned` grant to some cases) is counted over `case` as before: the tally has no
per-case rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from workflow.access.permissions import Perm
from workflow.access.principal import Principal
from workflow.storage.models import Case, CaseStageTally


@dataclass(frozen=True)
class Partnerships:
    """A scope made of whole partnerships; `ids` None: every partnership."""

    ids: frozenset[uuid.UUID] | None


def whole_partnerships(principal: Principal, found: uuid.UUID | None) -> Partnerships | None:
    """The cases of `case_filter(principal, DASHBOARD_READ)` (and of partnership
    `found`, when given) as whole partnerships; None when the scope selects single
    cases (mirrors workflow/access/scoping.case_filter)."""
    perm = Perm.DASHBOARD_READ
    if principal.has_national_scope(perm):
        return Partnerships(None if found is None else frozenset({found}))
    if principal.partnerships_with(perm, scopes=("assigned",)) and principal.assigned_cases:
        return None
    own = principal.partnerships_with(perm)
    return Partnerships(frozenset(own if found is None else own & {found}))


def cases_by_stage(
    session: Session,
    principal: Principal,
    found: uuid.UUID | None,
    visible: ColumnElement[bool],
) -> dict[str, int]:
    """Visible cases per stage (stages with none left out), `visible` being the
    dashboard's scope of `principal` limited to partnership `found` if given."""
    whole = whole_partnerships(principal, found)
    if whole is None:
        rows = session.execute(select(Case.stage, func.count()).where(visible).group_by(Case.stage))
        return {stage: n for stage, n in rows}
    total = func.sum(CaseStageTally.cases)
    stmt = select(CaseStageTally.stage, total).group_by(CaseStageTally.stage).having(total > 0)
    if whole.ids is not None:
        stmt = stmt.where(CaseStageTally.partnership_id.in_(whole.ids))
    return {stage: int(n) for stage, n in session.execute(stmt)}
