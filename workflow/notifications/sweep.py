"""The deadline sweep: reminders computed from durable facts.

Reads the stored deadlines (`case_deadline`, rewritten with every change of a case)
and enqueues `deadline.approaching` when a pending deadline is due within the
configured number of working days (the partnership's calendar), and
`deadline.missed` once it is overdue (pending, due before today). Each reminder is
keyed by (topic, case, deadline, due date) and inserted with ON CONFLICT DO
NOTHING, so running the sweep twice, from cron on several hosts at once, or after a
missed day enqueues each reminder exactly once; an extension that moves the due
date is announced again. Run it inside one write transaction (`Database.write`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import and_, case, exists, literal, select
from sqlalchemy.orm import Session

from workflow.core.calendars import CalendarBook
from workflow.notifications.outbox import (
    DEADLINE_APPROACHING,
    DEADLINE_MISSED,
    case_reference,
    deadline_row,
    insert_if_new,
)
from workflow.storage.models import Case, CaseDeadline, OutboxMessage, Partnership

# Local closures can only push the window later; this many extra calendar days
# bound the SQL pre-filter, the exact working-day test is made per partnership.
_CLOSURE_MARGIN_DAYS = 31


@dataclass(frozen=True)
class Reminder:
    topic: str
    case_id: str
    reference: str
    deadline: str
    due_date: date
    working_days: int


def sweep(
    session: Session,
    calendars: CalendarBook,
    *,
    today: date,
    now: datetime,
    working_days: int,
) -> list[Reminder]:
    """Enqueue the reminders due on `today` that were not enqueued before; return them."""
    horizon = today + timedelta(days=working_days * 2 + 4 + _CLOSURE_MARGIN_DAYS)
    topic_of = case(
        (CaseDeadline.due_date < today, literal(DEADLINE_MISSED)),
        else_=literal(DEADLINE_APPROACHING),
    )
    already = exists().where(
        and_(
            OutboxMessage.case_id == CaseDeadline.case_id,
            OutboxMessage.deadline_name == CaseDeadline.name,
            OutboxMessage.due_date == CaseDeadline.due_date,
            OutboxMessage.topic == topic_of,
        )
    )
    rows = session.execute(
        select(
            CaseDeadline.case_id,
            CaseDeadline.name,
            CaseDeadline.due_date,
            Case.partnership_id,
            Case.local_reference,
            Partnership.code,
            Partnership.division,
        )
        .join(Case, Case.id == CaseDeadline.case_id)
        .join(Partnership, Partnership.id == Case.partnership_id)
        .where(
            CaseDeadline.state == "pending",
            CaseDeadline.due_date.is_not(None),
            CaseDeadline.due_date <= horizon,
            ~already,
        )
        .order_by(CaseDeadline.due_date, CaseDeadline.case_id, CaseDeadline.name)
    ).all()
    found: list[Reminder] = []
    outbox_rows = []
    for case_id, name, due, partnership_id, local_ref, code, division in rows:
        if due is None:  # excluded by the query; for the type checker
            continue
        cal = calendars.calendar(division, code)
        if due < today:
            topic, days = DEADLINE_MISSED, cal.working_days_between(due, today)
        else:
            topic, days = DEADLINE_APPROACHING, cal.working_days_between(today, due)
            if days > working_days:
                continue
        reference = case_reference(case_id, local_ref)
        row = deadline_row(
            topic=topic,
            partnership_id=partnership_id,
            case_id=case_id,
            reference=reference,
            deadline=name,
            due=due,
            now=now,
            working_days=days,
        )
        outbox_rows.append(row)
        found.append(Reminder(topic, str(case_id), reference, name, due, days))
    inserted = {r["dedup_key"] for r in outbox_rows if insert_if_new(session, [r])}
    return [f for f, r in zip(found, outbox_rows, strict=True) if r["dedup_key"] in inserted]
