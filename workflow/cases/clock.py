"""The statutory clock of a case: its deadlines from facts, state and adjustments.

`refresh` derives every deadline of the case's own rulebook version and stores
them (case_deadline) in the caller's transaction, so a state change and its
derived deadlines commit together and lists can filter on them in SQL. What a
caller is shown is computed afresh for today (`statuses`), never from a timer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, bindparam, delete, insert, select, update
from sqlalchemy.orm import Session

from workflow.context import Context
from workflow.core.deadlines import (
    Adjustment,
    AdjustmentKind,
    DeadlineState,
    DeadlineStatus,
    RagThresholds,
    evaluate_all,
)
from workflow.core.errors import GuardRefused
from workflow.core.facts import ALL_FACTS
from workflow.core.rulebook import Rulebook
from workflow.storage.models import Case, CaseDeadline, DeadlineAdjustment, Partnership

EARLIEST_WINDOW = "window"  # stored state of a pending `earliest` deadline
# Stored state of a pending `expectation`: never "pending", so no overdue list, dashboard
# count, next_due_date (migration 0009 triggers), reminder or feed ever counts it.
EXPECTED = "expected"


_ADJUSTMENTS = cast(Table, DeadlineAdjustment.__table__)
_LOAD_ADJUSTMENTS = (
    select(
        _ADJUSTMENTS.c.deadline,
        _ADJUSTMENTS.c.kind,
        _ADJUSTMENTS.c.effective_date,
        _ADJUSTMENTS.c.reason,
        _ADJUSTMENTS.c.approved_by,
    )
    .where(_ADJUSTMENTS.c.case_id == bindparam("of_case"))
    .order_by(_ADJUSTMENTS.c.id)
)


def adjustments_of(session: Session, case_id: Any) -> list[Adjustment]:
    rows = session.connection().execute(_LOAD_ADJUSTMENTS, {"of_case": case_id})
    return [
        Adjustment(
            r.deadline, cast(AdjustmentKind, r.kind), r.effective_date, r.reason, r.approved_by
        )
        for r in rows
    ]


def statuses(
    session: Session, ctx: Context, rulebook: Rulebook, case: Case, *, redact: bool = False
) -> list[DeadlineStatus]:
    """Every deadline of the case as of today (NOT_APPLICABLE ones included).

    `redact` withholds the free-text reasons and approvers of adjustments (they can
    name people) from callers who may not see personal data."""
    partnership = session.get(Partnership, case.partnership_id)
    return evaluate_all(
        rulebook,
        state=case.state,
        facts={n: getattr(case, n) for n in ALL_FACTS},
        today=ctx.today,
        calendars=ctx.calendars.for_partnership(partnership.code if partnership else None),
        adjustments=[_redacted(a) for a in adjustments_of(session, case.id)]
        if redact
        else adjustments_of(session, case.id),
        thresholds=RagThresholds(ctx.rag_amber_working_days),
    )


# Prebuilt Core statements over case_deadline (bind names differ from the columns:
# an UPDATE reserves those).
_DEADLINES = cast(Table, CaseDeadline.__table__)
_STORED_FIELDS = ("state", "from_date", "due_date", "met_date", "on_time")
_LOAD_STORED = select(_DEADLINES.c.name, *(_DEADLINES.c[f] for f in _STORED_FIELDS)).where(
    _DEADLINES.c.case_id == bindparam("of_case")
)
_ROW_KEY = (_DEADLINES.c.case_id == bindparam("of_case")) & (
    _DEADLINES.c.name == bindparam("of_name")
)
_UPDATE_STORED = (
    update(_DEADLINES).where(_ROW_KEY).values({f: bindparam(f"new_{f}") for f in _STORED_FIELDS})
)
_DELETE_STORED = delete(_DEADLINES).where(_ROW_KEY)
_INSERT_STORED = insert(_DEADLINES)


def stored_row(status: DeadlineStatus) -> tuple[Any, ...]:
    """How a deadline status is stored (in `_STORED_FIELDS` order), without reference
    to today: overdue is a query on due_date; an `earliest` date (e.g. earliest
    withdrawal) is a window and an `expectation` is "expected", never overdue."""
    state: str = DeadlineState.PENDING if status.state is DeadlineState.OVERDUE else status.state
    if status.kind == "earliest" and state == DeadlineState.PENDING:
        state = EARLIEST_WINDOW
    elif status.kind == "expectation" and state == DeadlineState.PENDING:
        state = EXPECTED
    return (str(state), status.from_date, status.due_date, status.met_date, status.on_time)


def refresh(session: Session, ctx: Context, rulebook: Rulebook, case: Case) -> list[DeadlineStatus]:
    """Recompute the case's deadlines and store them; returns them.

    Flushes the session first, then writes only the rows that differ from the stored
    ones (Core statements: one read, then one executemany per kind of change); most
    commands change two or three of a case's deadlines."""
    session.flush()
    current = statuses(session, ctx, rulebook, case)
    connection = session.connection()
    stored = {
        row[0]: tuple(row[1:]) for row in connection.execute(_LOAD_STORED, {"of_case": case.id})
    }
    changed, added = [], []
    for s in current:
        row = stored.pop(s.name, None)
        wanted = stored_row(s)
        if row is None:
            added.append(
                {
                    "case_id": case.id,
                    "name": s.name,
                    **dict(zip(_STORED_FIELDS, wanted, strict=True)),
                }
            )
        elif row != wanted:
            values = {f"new_{f}": v for f, v in zip(_STORED_FIELDS, wanted, strict=True)}
            changed.append({"of_case": case.id, "of_name": s.name, **values})
    if changed:
        connection.execute(_UPDATE_STORED, changed)
    if added:
        connection.execute(_INSERT_STORED, added)
    if stored:  # rows of deadlines the rulebook no longer has
        connection.execute(_DELETE_STORED, [{"of_case": case.id, "of_name": n} for n in stored])
    return current


def met_late(
    rulebook: Rulebook, current: Sequence[DeadlineStatus], changed_facts: Sequence[str]
) -> list[str]:
    """Explanations of the deadlines that the changed facts met late (warnings); an
    expectation met after its date is not a warning."""
    rules = {d.name: d for d in rulebook.deadlines}
    return [
        s.explanation
        for s in current
        if s.state is DeadlineState.MET
        and s.on_time is False
        and s.kind != "expectation"
        and (rules[s.name].met_by_fact in changed_facts or rules[s.name].from_fact in changed_facts)
    ]


def refuse_missed(
    rulebook: Rulebook, current: Sequence[DeadlineStatus], changed_facts: Sequence[str], state: str
) -> None:
    """Refuse a command whose dates break a deadline the rulebook enforces
    (`refuse_when_missed`), e.g. a report sent to the Panel too close to publication."""
    enforced = {d.name: d for d in rulebook.deadlines if d.refuse_when_missed}
    for s in current:
        rule = enforced.get(s.name)
        if rule is None or s.state is not DeadlineState.MET or s.on_time:
            continue
        if rule.met_by_fact in changed_facts or rule.from_fact in changed_facts:
            raise GuardRefused(
                f"refused by rulebook {rulebook.id} v{rulebook.version}: {s.explanation}",
                current_state=state,
                allowed_actions=rulebook.triggers_from(state),
            )


def record_adjustment(session: Session, ctx: Context, case: Case, adjustment: Adjustment) -> None:
    session.add(
        DeadlineAdjustment(
            case_id=case.id,
            deadline=adjustment.deadline,
            kind=adjustment.kind,
            effective_date=adjustment.effective_date,
            reason=adjustment.reason,
            approved_by=adjustment.approved_by,
            recorded_at=ctx.now,
            event_sequence=case.version,
        )
    )


def _redacted(adjustment: Adjustment) -> Adjustment:
    return Adjustment(
        adjustment.deadline,
        adjustment.kind,
        adjustment.effective_date,
        "reason withheld",
        "withheld",
    )
