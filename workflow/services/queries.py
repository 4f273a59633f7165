"""Read use cases: a case, a page of cases, a timeline, what can be done next."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from workflow import repository
from workflow.models import Case, CaseEvent
from workflow.rulebook import Rulebook, RulebookRegistry


@dataclass(frozen=True)
class NextAction:
    trigger: str
    destinations: tuple[str, ...]  # possible next states; the guards pick one


def get_case(session: Session, case_id: uuid.UUID) -> Case:
    return repository.get_case(session, case_id)


def list_cases(
    session: Session,
    *,
    states: Sequence[str] = (),
    stages: Sequence[str] = (),
    rulebook_id: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Case], str | None]:
    return repository.list_cases(
        session, states=states, stages=stages, rulebook_id=rulebook_id, limit=limit, cursor=cursor
    )


def timeline(session: Session, case_id: uuid.UUID) -> list[CaseEvent]:
    repository.get_case(session, case_id)  # 404 before an empty list
    return repository.timeline(session, case_id)


def rulebook_of(registry: RulebookRegistry, case: Case) -> Rulebook:
    return registry.get(case.rulebook_id, case.rulebook_version)


def next_actions(rulebook: Rulebook, state: str) -> list[NextAction]:
    """Every trigger out of `state`, with the states it may lead to, in rulebook order."""
    out: list[NextAction] = []
    for trigger in rulebook.triggers_from(state):
        dests = [
            t.dest or state
            for t in rulebook.transitions
            if t.trigger == trigger and state in t.source
        ]
        out.append(NextAction(trigger, tuple(dict.fromkeys(dests))))
    return out
