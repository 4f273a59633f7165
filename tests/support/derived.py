"""Checks that the trigger-kept data of migration 0009 equals what it summarises:
`case.next_due_date` (the earliest pending due date of the case) and
`case_stage_tally` (cases per partnership and stage). Used after a restore."""

from __future__ import annotations

from datetime import date

from sqlalchemy import create_engine, func, select, update

from workflow.storage.models import Case, CaseDeadline, CaseStageTally


def derived_data_problems(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            earliest = (
                select(func.min(CaseDeadline.due_date))
                .where(CaseDeadline.case_id == Case.id, CaseDeadline.state == "pending")
                .scalar_subquery()
            )
            wrong = conn.execute(
                select(Case.id, Case.next_due_date, earliest).where(
                    func.coalesce(Case.next_due_date, date.min) != func.coalesce(earliest, date.min)
                )
            ).all()
            tallied = {
                (p, s): n
                for p, s, n in conn.execute(
                    select(
                        CaseStageTally.partnership_id, CaseStageTally.stage, CaseStageTally.cases
                    )
                )
                if n
            }
            scanned = {
                (p, s): n
                for p, s, n in conn.execute(
                    select(Case.partnership_id, Case.stage, func.count()).group_by(
                        Case.partnership_id, Case.stage
                    )
                )
            }
    finally:
        engine.dispose()
    problems = [f"case {c}: next_due_date {got}, earliest pending {want}" for c, got, want in wrong]
    if tallied != scanned:
        problems.append(f"case_stage_tally {tallied} != scanned {scanned}")
    return problems


def move_every_pending_deadline(url: str, due: date) -> None:
    """SQL by hand on a (restored) database: the triggers must follow it."""
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            conn.execute(
                update(CaseDeadline).where(CaseDeadline.state == "pending").values(due_date=due)
            )
    finally:
        engine.dispose()
