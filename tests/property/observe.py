"""What the property tests read back from the database, and the checks they share."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tests.property import oracle
from workflow.audit import chain as audit
from workflow.core.facts import ALL_FACTS
from workflow.core.rulebook import Rulebook, RulebookRegistry
from workflow.storage.models import AuditChainHead, AuditRecord, Case, CaseDeadline, CaseEvent


@dataclass(frozen=True)
class Seen:
    """One case as stored: state, version, facts, timeline, audit and deadlines."""

    state: str
    version: int
    rulebook: tuple[str, int]
    facts: dict[str, Any]
    events: list[tuple[int, str, str | None, str]]  # (sequence, type, from, to)
    ok_audits: list[tuple[str, dict[str, Any]]]  # (action, detail), in chain order
    refusals: int
    deadlines: dict[str, tuple[str, date | None, date | None, bool | None]]


def see(session: Session, case_id: uuid.UUID) -> Seen:
    case = session.get(Case, case_id)
    assert case is not None
    events = session.execute(
        select(CaseEvent.sequence, CaseEvent.event_type, CaseEvent.from_state, CaseEvent.to_state)
        .where(CaseEvent.case_id == case_id)
        .order_by(CaseEvent.id)
    ).all()
    audits = session.execute(
        select(AuditRecord.action, AuditRecord.outcome, AuditRecord.detail)
        .where(AuditRecord.case_id == case_id)
        .order_by(AuditRecord.seq)
    ).all()
    rows = session.scalars(select(CaseDeadline).where(CaseDeadline.case_id == case_id))
    return Seen(
        state=case.state,
        version=case.version,
        rulebook=(case.rulebook_id, case.rulebook_version),
        facts={n: getattr(case, n) for n in ALL_FACTS},
        events=[tuple(e) for e in events],  # type: ignore[misc]
        ok_audits=[(a, d) for a, o, d in audits if o == "ok" and not a.startswith("read")],
        refusals=sum(1 for _, o, _ in audits if o.startswith("refused")),
        deadlines={r.name: (r.state, r.due_date, r.met_date, r.on_time) for r in rows},
    )


def chain_length(session: Session, chain: str) -> int:
    head = session.get(AuditChainHead, chain)
    count = session.scalar(select(func.count()).where(AuditRecord.chain == chain))
    assert head is None or head.seq == count, f"chain {chain}: head {head.seq}, {count} records"
    return int(count or 0)


def verify_chain(session: Session, chain: str) -> None:
    report = audit.verify_chain(session, chain)
    assert report.ok, f"audit chain {chain} broken: {report}"


def allowed(rulebook: Rulebook, trigger: str, source: str, dest: str) -> bool:
    """Does the rulebook have a transition `trigger` from `source` that can end in `dest`?"""
    return any(
        t.trigger == trigger and source in t.source and (t.dest or source) == dest
        for t in rulebook.transitions
    )


def check_success(
    rulebooks: RulebookRegistry, before: Seen, after: Seen, event_type: str, is_trigger: bool
) -> None:
    """Exactly one more version, timeline event and ok audit record, all agreeing."""
    assert after.version == before.version + 1, (before.version, after.version)
    assert after.events[:-1] == before.events, "earlier timeline events changed"
    assert len(after.events) == len(before.events) + 1
    sequence, kind, source, dest = after.events[-1]
    assert (sequence, kind, dest) == (after.version, event_type, after.state)
    assert (source or "start") == (before.state if before.events else "start")
    assert after.ok_audits[:-1] == before.ok_audits
    assert len(after.ok_audits) == len(before.ok_audits) + 1
    action, detail = after.ok_audits[-1]
    assert action == event_type
    if "version" in detail:
        assert detail["version"] == after.version
    rulebook = rulebooks.get(*after.rulebook)
    if is_trigger:
        assert allowed(rulebook, event_type, before.state, after.state), (
            f"{event_type}: {before.state} -> {after.state} is not in {rulebook.id}"
        )
    else:
        assert after.state == before.state, f"{event_type} changed the state"
    assert after.refusals == before.refusals


def check_unchanged(before: Seen, after: Seen, refusals_added: int) -> None:
    assert after.state == before.state
    assert after.version == before.version
    assert after.facts == before.facts
    assert after.events == before.events
    assert after.ok_audits == before.ok_audits
    assert after.deadlines == before.deadlines
    assert after.refusals == before.refusals + refusals_added


def check_case(
    rulebooks: RulebookRegistry, seen: Seen, today: date, partnership: str, shown: list[Any]
) -> None:
    """Invariants of one case at rest; `shown` = its deadline statuses as of today."""
    rulebook = rulebooks.get(*seen.rulebook)
    assert seen.state in {s.name for s in rulebook.states}, f"unknown state {seen.state}"
    assert [e[0] for e in seen.events] == list(range(1, seen.version + 1)), "versions/events"
    assert len(seen.ok_audits) == seen.version, "one ok audit record per version"
    assert seen.events[-1][3] == seen.state
    for prev, nxt in zip(seen.events, seen.events[1:], strict=False):
        assert nxt[2] == prev[3], f"timeline jumps from {prev[3]} to {nxt[2]}"
    by_name = {s.name: s for s in shown}
    for rule in oracle.MAIN_DEADLINES[seen.rulebook[0]]:
        want = oracle.expected(
            rule, state=seen.state, facts=seen.facts, today=today, partnership=partnership
        )
        got = by_name[rule.name]
        assert str(got.state) == want.state, (rule.name, got.explanation, want)
        if want.state != "not_applicable":
            assert got.due_date == want.due, (rule.name, got.explanation, want)
        if want.state == "met":
            assert got.on_time == want.on_time, (rule.name, got.explanation, want)
        stored = seen.deadlines[rule.name]
        stored_state = "pending" if want.state == "overdue" else want.state
        assert stored[0] == stored_state, (rule.name, stored, want)
        assert stored[1] == (want.due if want.state != "not_applicable" else stored[1])
