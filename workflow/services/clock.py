"""The statutory clock of a case: its deadlines from facts, state and adjustments.

`refresh` derives every deadline of the case's own rulebook version and stores
them (case_deadline) in the caller's transaction, so a state change and its
derived deadlines commit together and lists can filter on them in SQL. What a
caller is shown is computed afresh for today (`statuses`), never from a timer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from workflow.deadlines import (
    Adjustment,
    AdjustmentKind,
    DeadlineState,
    DeadlineStatus,
    RagThresholds,
    evaluate_all,
)
from workflow.errors import GuardRefused
from workflow.facts import ALL_FACTS
from workflow.models import Case, CaseDeadline, DeadlineAdjustment, Partnership
from workflow.rulebook import Rulebook
from workflow.services.base import Context

EARLIEST_WINDOW = "window"  # stored state of a pending `earliest` deadline


def adjustments_of(session: Session, case_id: Any) -> list[Adjustment]:
    rows = session.scalars(
        select(DeadlineAdjustment)
        .where(DeadlineAdjustment.case_id == case_id)
        .order_by(DeadlineAdjustment.id)
    )
    return [
        Adjustment(
            r.deadline,
            cast(AdjustmentKind, r.kind),
            r.effective_date,
            r.reason,
            r.approved_by,
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


def refresh(session: Session, ctx: Context, rulebook: Rulebook, case: Case) -> list[DeadlineStatus]:
    """Recompute and store the case's deadlines; returns them."""
    current = statuses(session, ctx, rulebook, case)
    session.execute(delete(CaseDeadline).where(CaseDeadline.case_id == case.id))
    for s in current:
        # Stored without reference to today: overdue is a query on due_date. An
        # `earliest` date (e.g. earliest withdrawal) is a window, never overdue.
        state: str = DeadlineState.PENDING if s.state is DeadlineState.OVERDUE else s.state
        if s.kind == "earliest" and state == DeadlineState.PENDING:
            state = EARLIEST_WINDOW
        session.add(
            CaseDeadline(
                case_id=case.id,
                name=s.name,
                state=str(state),
                from_date=s.from_date,
                due_date=s.due_date,
                met_date=s.met_date,
                on_time=s.on_time,
            )
        )
    session.flush()
    return current


def met_late(
    rulebook: Rulebook, current: Sequence[DeadlineStatus], changed_facts: Sequence[str]
) -> list[str]:
    """Explanations of the deadlines that the changed facts met late (warnings)."""
    rules = {d.name: d for d in rulebook.deadlines}
    return [
        s.explanation
        for s in current
        if s.state is DeadlineState.MET
        and s.on_time is False
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
