"""Read use cases: a case, a page of cases, a timeline, what can be done next.

Every read is scoped to what the caller may see; a read that returns personal
data writes an audit record (so these run in a write transaction)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlalchemy import ColumnElement, bindparam, or_, select
from sqlalchemy.orm import Session

from workflow.access.permissions import Perm, command
from workflow.access.principal import Principal
from workflow.access.scoping import case_filter, sees_personal_data, visible_case
from workflow.cases import clock
from workflow.core.deadlines import DeadlineState, DeadlineStatus
from workflow.core.errors import InvalidFacts
from workflow.core.rulebook import Rulebook, RulebookRegistry
from workflow.reads.learning import mentions
from workflow.storage import repository
from workflow.storage.models import Case, CaseEvent, CaseLink, Partnership
from workflow.storage.repository import CaseQuery, DeadlineFilter

__all__ = ["CaseView", "NextAction", "visible_case"]
from workflow.cases.recording import audit_case
from workflow.context import Context


@dataclass(frozen=True)
class NextAction:
    trigger: str
    destinations: tuple[str, ...]  # possible next states; the guards pick one


@dataclass(frozen=True)
class CaseView:
    """A case as one caller may see it."""

    case: Case
    personal: bool  # the caller may see personal data (stage records, payloads)
    allowed_actions: list[str]  # the rulebook's next triggers that this caller may fire
    deadlines: list[DeadlineStatus]  # those that apply to the case, as of today
    carried_by: list[uuid.UUID]  # thematic reviews carrying this case's learning
    sources: list[uuid.UUID]  # a thematic review's source cases


_LINKS = select(CaseLink.source_case_id, CaseLink.thematic_case_id).where(  # both directions
    or_(
        CaseLink.source_case_id == bindparam("linked_case"),
        CaseLink.thematic_case_id == bindparam("linked_case"),
    )
)


def read_case(session: Session, ctx: Context, case_id: uuid.UUID) -> CaseView:
    """The case as the caller may see it. If `personal`, the caller must then record
    the read with `record_read` before showing it."""
    return view_of(session, ctx, visible_case(session, ctx.principal, case_id))


def view_of(
    session: Session,
    ctx: Context,
    case: Case,
    *,
    current: Sequence[DeadlineStatus] | None = None,
) -> CaseView:
    """`current`: the case's deadline statuses as of today, unredacted, when the caller
    has just computed them (a command's `clock.refresh`, after its changes); used for a
    caller who sees personal data, saving their recomputation."""
    rulebook = rulebook_of(ctx.rulebooks, case)
    personal = sees_personal_data(ctx.principal, case)
    if current is None or not personal:
        current = clock.statuses(session, ctx, rulebook, case, redact=not personal)
    deadlines = [d for d in current if d.state is not DeadlineState.NOT_APPLICABLE]
    # Only a thematic review, or a case carried by one, has links (thematic.py sets
    # `carried_by_thematic` with every link it adds).
    links = (
        session.execute(_LINKS, {"linked_case": case.id}).all()
        if case.kind == "thematic" or case.carried_by_thematic
        else []
    )
    return CaseView(
        case,
        personal,
        [a.trigger for a in next_actions(rulebook, ctx.principal, case)],
        deadlines,
        [link.thematic_case_id for link in links if link.source_case_id == case.id],
        [link.source_case_id for link in links if link.thematic_case_id == case.id],
    )


@dataclass(frozen=True)
class CaseListRequest:
    """A caller's list request, as given (validated here against the rulebooks)."""

    states: Sequence[str] = ()
    stages: Sequence[str] = ()
    rulebook: str | None = None
    partnership: str | None = None
    theme: str | None = None
    aware_from: date | None = None
    aware_to: date | None = None
    overdue: bool = False
    due_within: int | None = None
    deadline: str | None = None
    deadline_state: str | None = None
    sort: str = "newest"
    reference: str | None = None  # a part of the local reference or title
    text: str | None = None  # in the narrative: only cases whose narrative the caller reads


def may_search_text(principal: Principal) -> bool:
    """Whether a text search can find anything for `principal`: it searches only the
    cases whose narrative (personal data) the caller may read."""
    return principal.has_national_scope(Perm.CASE_READ_PERSONAL) or bool(
        principal.partnerships_with(Perm.CASE_READ_PERSONAL, scopes=("partnership", "assigned"))
    )


def list_cases(
    session: Session,
    ctx: Context,
    request: CaseListRequest,
    *,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[Case], str | None]:
    """The caller's cases; `due_within` counts working days of England and Wales."""
    return repository.list_cases(
        session,
        visible=case_filter(ctx.principal),
        query=case_query(session, ctx, request),
        limit=limit,
        cursor=cursor,
    )


def case_query(session: Session, ctx: Context, request: CaseListRequest) -> CaseQuery:
    """`request` checked against the rulebooks and the caller's partnerships (InvalidFacts
    naming the field), as a repository query; the caller adds `case_filter`."""
    r = request
    known = ctx.rulebooks.vocabulary()
    for field, values in (
        ("state", r.states),
        ("stage", r.stages),
        ("deadline", [r.deadline] if r.deadline else []),
    ):
        unknown = sorted(set(values) - known[field])
        if unknown:
            raise InvalidFacts(
                f"unknown {field} {', '.join(unknown)}; one of: {', '.join(sorted(known[field]))}",
                field,
            )
    partnership_ids: list[uuid.UUID] = []
    if r.partnership is not None:
        grant = next(
            (
                g
                for g in ctx.principal.grants
                if g.partnership_code == r.partnership or g.scope == "all"
            ),
            None,
        )
        found = session.scalar(select(Partnership.id).where(Partnership.code == r.partnership))
        if grant is None or found is None:
            raise InvalidFacts(f"no partnership {r.partnership!r} among yours", "partnership")
        partnership_ids = [found]
    wanted = None
    if r.overdue or r.due_within is not None or (r.deadline and not r.deadline_state):
        due_by = None
        if r.due_within is not None:
            due_by = ctx.calendars.calendar("england-and-wales").add_working_days(
                ctx.today, r.due_within
            )
        wanted = DeadlineFilter(today=ctx.today, name=r.deadline, overdue=r.overdue, due_by=due_by)
    return CaseQuery(
        states=r.states,
        stages=r.stages,
        rulebook_id=r.rulebook,
        partnership_ids=partnership_ids,
        theme=r.theme,
        aware_from=r.aware_from,
        aware_to=r.aware_to,
        deadline=wanted,
        deadline_state=(r.deadline, r.deadline_state) if r.deadline_state else None,
        oldest_first=r.sort == "oldest",
        reference=(r.reference or "").strip() or None,
        extra=_text_search(ctx, r.text),
    )


def _text_search(ctx: Context, text: str | None) -> list[ColumnElement[bool]]:
    """The narrative search's conditions: only the cases whose narrative the caller may
    read (the permission that shows it; disclosure.py), so a match reveals nothing."""
    text = (text or "").strip()
    if not text:
        return []
    return [case_filter(ctx.principal, Perm.CASE_READ_PERSONAL), mentions(text)]


def next_deadlines(
    session: Session, case_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, date]]:
    """The earliest pending deadline (name, due date) of each listed case: the list's
    extra columns. The cases must come from `list_cases` (already scoped)."""
    return repository.next_deadlines(session, case_ids)


def timeline(session: Session, ctx: Context, case_id: uuid.UUID) -> tuple[list[CaseEvent], bool]:
    """The events, and whether the caller may see their payloads (then `record_read`)."""
    case = visible_case(session, ctx.principal, case_id)
    return repository.timeline(session, case_id), sees_personal_data(ctx.principal, case)


def rulebook_of(registry: RulebookRegistry, case: Case) -> Rulebook:
    return registry.get(case.rulebook_id, case.rulebook_version)


def next_actions(rulebook: Rulebook, principal: Principal, case: Case) -> list[NextAction]:
    """Every trigger out of the case's state that the caller may fire, in rulebook order,
    with the states it may lead to."""
    out: list[NextAction] = []
    for trigger in rulebook.triggers_from(case.state):
        if not principal.may(command(trigger), case.partnership_id, case.id):
            continue
        dests = [
            t.dest or case.state
            for t in rulebook.transitions
            if t.trigger == trigger and case.state in t.source
        ]
        out.append(NextAction(trigger, tuple(dict.fromkeys(dests))))
    return out


def record_read(session: Session, ctx: Context, case_id: uuid.UUID, action: str) -> None:
    """Audit a read of a case's personal data (a short write transaction of its own,
    so reads never hold the write lock while they load and render)."""
    audit_case(session, ctx, visible_case(session, ctx.principal, case_id), action)


def record_reads(
    session: Session, ctx: Context, case_ids: Sequence[uuid.UUID], action: str
) -> None:
    """`record_read` for a read that returned the personal data of several cases: one
    audit record per case, in its partnership's chain."""
    for case_id in dict.fromkeys(case_ids):
        record_read(session, ctx, case_id, action)
