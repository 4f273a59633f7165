"""Thematic reviews: one local review covering several incidents (e.g. three rapid
reviews of injured babies). It opens at commissioning with its own lifecycle from
there; each source case records that the thematic review carries its learning and
may then close (Working Together 2023 ch.5 allows one review of several cases)."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from workflow.access.permissions import command as command_perm
from workflow.access.scoping import partnership_for_new_case, visible_case
from workflow.cases.change import CaseChange
from workflow.cases.opening import new_case, rulebook_for
from workflow.commands.thematic import OpenThematicReview
from workflow.context import Context
from workflow.core import machine
from workflow.core.errors import CaseNotFound, InvalidFacts
from workflow.storage.models import Case, CaseLink

LINK_EVENT = "carried_by_thematic_review"


def open_thematic(session: Session, ctx: Context, command: OpenThematicReview) -> Case:
    """Create the thematic review and link every source case, or change nothing."""
    partnership = partnership_for_new_case(
        session, ctx.principal, command.partnership, perm=command_perm(command.trigger)
    )
    rulebook = rulebook_for(ctx, command.rulebook, command.decision_date, partnership.nation)
    facts = command.facts()
    command.check_dates(facts, ctx.today)
    moved = machine.fire(rulebook, "start", facts, command.trigger)
    sources = _sources(session, ctx, command, partnership.id)
    case = new_case(
        ctx,
        partnership.id,
        rulebook,
        moved.to_state,
        command.section,
        command.model_dump(mode="json"),
        facts,
        title=command.title,
    )
    with CaseChange.opening(session, ctx, case, partnership) as change:
        change.record(command.trigger, command.model_dump(mode="json"))
    for source in sources:
        session.add(CaseLink(thematic_case_id=case.id, source_case_id=source.id, linked_at=ctx.now))
        with CaseChange.of_locked(session, ctx, source) as linked:
            linked.record(
                LINK_EVENT,
                {"thematic_case_id": str(case.id), "title": command.title},
                {"carried_by_thematic": True},
            )
    return case


def _sources(
    session: Session, ctx: Context, command: OpenThematicReview, partnership_id: uuid.UUID
) -> list[Case]:
    if len(set(command.source_case_ids)) != len(command.source_case_ids):
        raise InvalidFacts("a source case is listed twice", "source_case_ids")
    sources = []
    for case_id in command.source_case_ids:
        try:
            source = visible_case(session, ctx.principal, case_id, for_update=True)
        except CaseNotFound:
            raise InvalidFacts(f"no case {case_id}", "source_case_ids") from None
        if source.partnership_id != partnership_id or source.kind != "incident":
            raise InvalidFacts(
                f"case {case_id} is not an incident of this partnership", "source_case_ids"
            )
        if source.state == "closed":
            raise InvalidFacts(f"case {case_id} is closed", "source_case_ids")
        sources.append(source)
    return sources
