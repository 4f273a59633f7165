"""A state machine driving random commands through the service layer (the gateway's transact +
engine), on a real database, checking the workflow's invariants after every step.

Each example gets a partnership of its own (tests/property/crew.py) and checks only
its own cases and audit chain, so one migrated database serves every example.
"""

from __future__ import annotations

import itertools
import uuid
from collections import Counter
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.gateway import Outcome, transact
from api.replays import IdempotencyRequest
from tests.property import observe, oracle
from tests.property.bodies import command_body
from tests.property.crew import Crew, make_crew, principal
from tests.property.expect import must_refuse
from workflow.audit.chain import SYSTEM_CHAIN
from workflow.cases import action_plan as plan
from workflow.cases.clock import statuses
from workflow.cases.engine import execute_command, open_case
from workflow.cases.thematic import LINK_EVENT, open_thematic
from workflow.commands.intake import LogIncident
from workflow.commands.registry import COMMANDS
from workflow.commands.thematic import OpenThematicReview
from workflow.context import Context
from workflow.core.calendars import CalendarBook
from workflow.core.errors import DomainError
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database
from workflow.storage.models import Case

START = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)
CALENDARS = CalendarBook.load(oracle.CALENDAR_FILE)
_keys = itertools.count(1)
REACHED: set[str] = set()  # rulebook:state pairs seen, for the run's summary
REASONS: Counter[str] = Counter()  # refusals by command and error, for the run's summary


class Refused(Exception):
    """The command was refused with a domain error (it is attached)."""


class ServiceWorld:
    """The example's database, people, clock and expectations, and the checked runner."""

    def __init__(self, database: Database, rulebooks: RulebookRegistry) -> None:
        self.db, self.rulebooks = database, rulebooks
        self.crew: Crew = make_crew(database)
        self.now = START
        self.versions: dict[uuid.UUID, int] = {}  # what each case's version must be
        self.finals: set[uuid.UUID] = set()  # cases seen in a final state
        # records in the example's audit chain: its start at the partnership's creation,
        # then the crew's grants
        self.chain = database.read(lambda s: observe.chain_length(s, self.crew.code))
        self.system = database.read(lambda s: observe.chain_length(s, SYSTEM_CHAIN))
        self.successes = self.refusals = 0

    @property
    def today(self) -> date:
        return self.ctx("notifier").today

    def ctx(self, actor: str) -> Context:
        who = principal(self.db, self.crew, actor)
        return Context(self.rulebooks, who, self.now, client="props", calendars=CALENDARS)

    def see(self, case_id: uuid.UUID) -> observe.Seen:
        return self.db.read(lambda s: observe.see(s, case_id))

    def run(
        self,
        actor: str,
        action: str,
        case_id: uuid.UUID | None,
        work: Callable[[Session, Context], Outcome],
        idem: IdempotencyRequest | None = None,
    ) -> tuple[Outcome | None, bool]:
        """The gateway's transaction as a route runs it; (None, False) when refused."""
        ctx = self.ctx(actor)
        try:
            outcome, replayed = transact(
                self.db, ctx, action=action, case_id=case_id, work=lambda s: work(s, ctx), idem=idem
            )
        except DomainError as exc:
            self.refusals += 1
            REASONS[f"{action}: {type(exc).__name__}"] += 1
            return None, False
        self.successes += 0 if replayed else 1
        return outcome, replayed

    def command(
        self,
        case_id: uuid.UUID,
        trigger: str,
        actor: str,
        offset: int,
        variant: int,
        stale: bool,
        replay: bool,
    ) -> None:
        before = self.see(case_id)
        body = command_body(
            trigger, before.facts, self.today, offset, variant, self.crew.usernames["reviewer"]
        )
        try:
            cmd = COMMANDS[trigger].model_validate(body)
        except ValidationError:
            REASONS[f"{trigger}: ValidationError"] += 1
            return  # refused at the boundary: nothing ran (the invariants still check it)
        version = before.version + (-1 if before.version > 1 else 1) if stale else before.version

        def work(s: Session, ctx: Context) -> Outcome:
            done = execute_command(s, ctx, case_id, version, cmd)
            return Outcome(200, {"id": str(case_id), "state": done.case.state}, f'"{version}"')

        idem = None
        if replay:
            path = f"/cases/{case_id}/{trigger}"
            idem = IdempotencyRequest.of(f"k{next(_keys)}", "POST", path, repr(body).encode())
        outcome, _ = self.run(actor, trigger, case_id, work, idem)
        after = self.see(case_id)
        if outcome is None:
            observe.check_unchanged(before, after, refusals_added=1)
            self.chain += 1
        else:
            observe.check_success(self.rulebooks, before, after, trigger, is_trigger=True)
            self.chain += 1
            self.versions[case_id] = after.version
            why = must_refuse(actor, stale, cmd, before, self.today)
            assert not why, f"{trigger} by {actor} succeeded: {why}"
        if idem is not None and outcome is not None:
            again, replayed = self.run(actor, trigger, case_id, work, idem)
            assert replayed, "a second request with the same key must be a replay"
            assert again == outcome, "a replay must return the first outcome"
            observe.check_unchanged(after, self.see(case_id), refusals_added=0)

    def open(self, actor: str, body: dict[str, Any], valid: bool) -> uuid.UUID | None:
        try:
            cmd = LogIncident.model_validate(body)
        except ValidationError:
            REASONS["log_incident: ValidationError"] += 1
            return None

        def work(s: Session, ctx: Context) -> Outcome:
            case = open_case(s, ctx, cmd)
            return Outcome(201, {"id": str(case.id), "state": case.state})

        outcome, _ = self.run(actor, "log_incident", None, work)
        system = self.db.read(lambda s: observe.chain_length(s, SYSTEM_CHAIN))
        if outcome is None:
            assert not valid, f"a valid incident was refused: {body}"
            assert system == self.system + 1, "a refused opening is audited in the system chain"
            self.system = system
            return None
        assert valid, f"an invalid incident was accepted: {body}"
        assert system == self.system
        case_id = uuid.UUID(outcome.body["id"])
        seen = self.see(case_id)
        assert (seen.version, len(seen.events), len(seen.ok_audits)) == (1, 1, 1)
        assert observe.allowed(
            self.rulebooks.get(*seen.rulebook), "log_incident", "start", seen.state
        )
        self.chain += 1
        self.versions[case_id] = 1
        return case_id

    def thematic(self, sources: list[uuid.UUID], back: int) -> uuid.UUID | None:
        before = {c: self.see(c) for c in sources}
        body = {
            "title": "Thematic review",
            "decision_date": (self.today - timedelta(days=back)).isoformat(),
            "reasons": "Shared learning.",
            "source_case_ids": [str(c) for c in sources],
        }
        cmd = OpenThematicReview.model_validate(body)

        def work(s: Session, ctx: Context) -> Outcome:
            case = open_thematic(s, ctx, cmd)
            return Outcome(201, {"id": str(case.id), "state": case.state})

        outcome, _ = self.run("review_group", "open_thematic_review", None, work)
        if outcome is None:
            self.system += 1
            for case_id, seen in before.items():
                observe.check_unchanged(seen, self.see(case_id), refusals_added=0)
            return None
        case_id = uuid.UUID(outcome.body["id"])
        assert back >= 0, "a thematic review decided in the future was accepted"
        for seen in before.values():
            assert seen.state != "closed", "a closed case was linked to a thematic review"
            assert seen.facts["kind"] == "incident", "a thematic review became a source"
        for source, seen in before.items():
            observe.check_success(self.rulebooks, seen, self.see(source), LINK_EVENT, False)
            self.versions[source] = seen.version + 1
        self.chain += 1 + len(sources)
        self.versions[case_id] = 1
        return case_id

    def complete_plan(self, case_id: uuid.UUID) -> None:
        """Give each recommendation an action, complete and sign it off (review group)."""
        recommendations = self.see(case_id).facts["unactioned_recommendations"]
        for number in range(1, recommendations + 1):
            body = plan.AddAction(
                recommendation_number=number,
                description="Act",
                agency="police",
                owner="DCI",
                due_date=self.today,
            )
            added = self._plan_step(
                case_id, "add_action", lambda s, c, v, b=body: plan.add_action(s, c, case_id, v, b)
            )
            if added is None:
                continue
            progress = plan.ReportProgress(status="completed_awaiting_evidence", note="Done")
            done = self._plan_step(
                case_id,
                "report_progress",
                lambda s, c, v, a=added, p=progress: plan.report_progress(s, c, case_id, v, a, p),
            )
            assert done is not None, "progress on a new action was refused"
            done = self._plan_step(
                case_id,
                "sign_off",
                lambda s, c, v, a=added: plan.sign_off(
                    s, c, case_id, v, a, plan.SignOff(note="Ok")
                ),
            )
            assert done is not None, "signing off a completed action was refused"

    def _plan_step(
        self, case_id: uuid.UUID, step: str, call: Callable[[Session, Context, int], Any]
    ) -> uuid.UUID | None:
        """One action-plan change (a change of the case): checked like a command; the
        action's id, or None if refused."""
        before = self.see(case_id)

        def work(s: Session, ctx: Context) -> Outcome:
            _case, action = call(s, ctx, before.version)
            return Outcome(200, {"id": str(case_id), "action": str(action.id)})

        outcome, _ = self.run("review_group", step, case_id, work)
        after = self.see(case_id)
        self.chain += 1
        if outcome is None:
            observe.check_unchanged(before, after, refusals_added=1)
            return None
        observe.check_success(self.rulebooks, before, after, after.events[-1][1], False)
        self.versions[case_id] = after.version
        return uuid.UUID(outcome.body["action"])

    def check(self) -> None:
        """Every invariant of every case of the example, and its audit chain."""
        for case_id, version in self.versions.items():
            seen = self.see(case_id)
            assert seen.version == version, f"case version {seen.version}, expected {version}"
            final = {s.name for s in self.rulebooks.get(*seen.rulebook).states if s.final}
            if case_id in self.finals:
                assert seen.state in final, f"left final state for {seen.state}"
            if seen.state in final:
                self.finals.add(case_id)
            REACHED.add(f"{seen.rulebook[0]}:{seen.state}")
            shown = self.db.read(lambda s, c=case_id: self._statuses(s, c))
            observe.check_case(self.rulebooks, seen, self.today, self.crew.code, shown)

        def chains(s: Session) -> None:
            assert observe.chain_length(s, self.crew.code) == self.chain
            observe.verify_chain(s, self.crew.code)

        self.db.read_snapshot(chains)
        system = self.db.read(lambda s: observe.chain_length(s, SYSTEM_CHAIN))
        assert system == self.system, "refused openings: one system audit record each"

    def teardown(self) -> None:
        def chains(s: Session) -> None:
            for chain in (self.crew.code, self.crew.other, SYSTEM_CHAIN):
                observe.verify_chain(s, chain)

        self.db.read_snapshot(chains)

    def _statuses(self, session: Session, case_id: uuid.UUID) -> list[Any]:
        case = session.get(Case, case_id)
        assert case is not None
        ctx = self.ctx("review_group")
        return statuses(
            session, ctx, self.rulebooks.get(case.rulebook_id, case.rulebook_version), case
        )


__all__ = ["REACHED", "REASONS", "ServiceWorld"]
