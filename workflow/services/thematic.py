"""Thematic reviews: one local review covering several incidents (e.g. three rapid
reviews of injured babies). It opens at commissioning with its own lifecycle from
there; each source case records that the thematic review carries its learning and
may then close (Working Together 2023 ch.5 allows one review of several cases)."""

from __future__ import annotations

import uuid
from typing import Any, ClassVar

from pydantic import Field
from sqlalchemy.orm import Session

from workflow import machine
from workflow.access.permissions import command as command_perm
from workflow.errors import CaseNotFound, InvalidFacts
from workflow.inputs import CaseDate
from workflow.models import Case, CaseLink
from workflow.services import clock
from workflow.services.access import partnership_for_new_case, visible_case
from workflow.services.base import Command, Context
from workflow.services.opening import new_case, rulebook_for
from workflow.services.recording import record_change

LINK_EVENT = "carried_by_thematic_review"


class OpenThematicReview(Command):
    """Open a thematic review of several cases; it starts at reviewer commissioning."""

    trigger: ClassVar[str] = "open_thematic_review"
    section: ClassVar[str] = "thematic"
    past_dates: ClassVar[tuple[str, ...]] = ("decision_date",)
    multiline_fields: ClassVar[frozenset[str]] = frozenset({"reasons"})

    title: str = Field(min_length=1, max_length=200, examples=["Non-mobile babies with bruising"])
    partnership: str | None = Field(default=None, max_length=64)
    rulebook: str | None = Field(default=None, max_length=64)
    decision_date: CaseDate = Field(description="When the partners decided on the thematic review.")
    reasons: str = Field(min_length=1, max_length=10_000)
    source_case_ids: list[uuid.UUID] = Field(min_length=2, max_length=30)

    def facts(self) -> dict[str, Any]:
        return {
            "kind": "thematic",
            "decision": "local_review",
            "decision_date": self.decision_date,
            "notifiable": False,
            "meets_review_criteria": False,
        }


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
    session.add(case)
    session.flush()
    record_change(session, ctx, case, command.trigger, "start", command.model_dump(mode="json"))
    session.flush()
    clock.refresh(session, ctx, rulebook, case)
    for source in sources:
        session.add(CaseLink(thematic_case_id=case.id, source_case_id=source.id, linked_at=ctx.now))
        source.carried_by_thematic = True
        source.version += 1
        source.updated_at = ctx.now
        record_change(
            session,
            ctx,
            source,
            LINK_EVENT,
            source.state,
            {"thematic_case_id": str(case.id), "title": command.title},
        )
        session.flush()
        clock.refresh(
            session, ctx, ctx.rulebooks.get(source.rulebook_id, source.rulebook_version), source
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
