"""After a crash, a fault or a restore: does the database still tell one story?

* every case's timeline is 1..version without gaps;
* every timeline event has exactly one successful audit record (same case, version
  and action) and every successful audit record of a case change has its event;
* every audit hash chain verifies.
"""

from __future__ import annotations

import uuid
from collections import Counter
from dataclasses import dataclass, field

from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from workflow.audit import chain
from workflow.storage.models import AuditRecord, Case, CaseEvent

Key = tuple[uuid.UUID, int, str]


@dataclass
class Consistency:
    cases: int = 0
    events: int = 0
    audit_records: int = 0
    problems: list[str] = field(default_factory=list)


def check_database(url: str) -> Consistency:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            versions = {r.id: r.version for r in conn.execute(select(Case.id, Case.version))}
            events = conn.execute(
                select(CaseEvent.case_id, CaseEvent.sequence, CaseEvent.event_type)
            ).all()
            audits = conn.execute(
                select(AuditRecord.case_id, AuditRecord.detail, AuditRecord.action).where(
                    AuditRecord.outcome == "ok", AuditRecord.case_id.is_not(None)
                )
            ).all()
        with Session(engine) as session:
            reports = chain.verify_all(session)
    finally:
        engine.dispose()

    result = Consistency(len(versions), len(events), sum(r.records for r in reports))
    timeline: Counter[Key] = Counter((c, s, t) for c, s, t in events)
    audited: Counter[Key] = Counter(
        (c, int(d["version"]), a) for c, d, a in audits if isinstance(d, dict) and "version" in d
    )
    for key in timeline - audited:
        result.problems.append(f"event without audit record: {key}")
    for key in audited - timeline:
        result.problems.append(f"audit record without event: {key}")
    for key, n in timeline.items():
        if n > 1:
            result.problems.append(f"duplicate event: {key}")
    sequences: dict[uuid.UUID, list[int]] = {}
    for c, s, _t in events:
        sequences.setdefault(c, []).append(s)
    for case_id, version in versions.items():
        if sorted(sequences.get(case_id, [])) != list(range(1, version + 1)):
            result.problems.append(f"case {case_id}: timeline is not 1..{version}")
    result.problems += [f"audit chain {r.chain} broken: {r.problem}" for r in reports if not r.ok]
    return result
