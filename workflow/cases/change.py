"""The unit of work for changing one case: the only place a case's version moves.

Every path that changes a case (a rulebook command, an action-plan change, a
deadline adjustment, a thematic review and the cases it carries) goes through a
`CaseChange`:

    with CaseChange.begin(session, ctx, case_id, expected_version, perm) as change:
        change.record("record_decision", payload, {"decision": ..., "state": ...})
        ...named effects...
    change.deadlines  # as stored by the change, for warnings and the answer

`begin` locks the case, answers 404 for a case the caller may not see, 403 without
`perm` and 412 (VersionMismatch) at another version. `record` writes the new version,
the facts given and exactly one timeline event, one audit record and, when the state
changed, the `case.stage_changed` outbox message. Leaving the block without an error
recomputes and stores the case's deadlines. Nothing here commits: the caller's
transaction holds the whole change, so it lands entirely or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session

from workflow.access.scoping import case_for_command, require
from workflow.cases import clock
from workflow.cases.recording import add_timeline_event, notify_state_change, update_case
from workflow.context import Context
from workflow.core.deadlines import DeadlineStatus
from workflow.core.errors import VersionMismatch
from workflow.core.rulebook import Rulebook
from workflow.storage.models import Case, Partnership


class CaseChange:
    """One change of one case inside the caller's transaction (see the module)."""

    def __init__(
        self,
        session: Session,
        ctx: Context,
        case: Case,
        partnership: Partnership,
        *,
        opened: bool = False,
    ) -> None:
        self.session, self.ctx, self.case, self.partnership = session, ctx, case, partnership
        self.rulebook: Rulebook = ctx.rulebooks.get(case.rulebook_id, case.rulebook_version)
        self.from_state = "start" if opened else case.state
        self.deadlines: list[DeadlineStatus] = []
        self._opened = opened
        self._recorded = False

    @classmethod
    def begin(
        cls,
        session: Session,
        ctx: Context,
        case_id: uuid.UUID,
        expected_version: int,
        perm: str,
    ) -> CaseChange:
        """Lock the case the caller changes at `expected_version` with `perm`."""
        case, partnership = case_for_command(session, ctx.principal, case_id)
        require(ctx.principal, perm, case)
        if case.version != expected_version:
            raise VersionMismatch(
                f"the case is at version {case.version}, not {expected_version}; "
                "fetch it again and retry",
                current_version=case.version,
            )
        return cls(session, ctx, case, partnership)

    @classmethod
    def of_locked(cls, session: Session, ctx: Context, case: Case) -> CaseChange:
        """A change of a case the caller already locked and checked, as part of a
        larger change (the source cases a thematic review carries): no If-Match."""
        partnership = session.get(Partnership, case.partnership_id)
        assert partnership is not None
        return cls(session, ctx, case, partnership)

    @classmethod
    def opening(
        cls, session: Session, ctx: Context, case: Case, partnership: Partnership
    ) -> CaseChange:
        """The first change of a new case (at version 1): it is inserted here."""
        session.add(case)
        session.flush()  # the Core inserts below refer to the case's row
        return cls(session, ctx, case, partnership, opened=True)

    def __enter__(self) -> CaseChange:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        if kind is not None:
            return  # the caller's transaction rolls the whole change back
        if not self._recorded:
            raise RuntimeError("a change of a case must record its event")
        self.deadlines = clock.refresh(self.session, self.ctx, self.rulebook, self.case)

    def record(
        self, event_type: str, payload: dict[str, Any], changes: Mapping[str, Any] | None = None
    ) -> None:
        """Write the case's new version (with `changes`: column -> value) and the
        change's one timeline event, audit record and outbox message."""
        if self._recorded:
            raise RuntimeError("a change of a case records exactly one event")
        self._recorded = True
        case, ctx = self.case, self.ctx
        if not self._opened:
            self.session.flush()  # pending ORM rows of the change (actions, links) first
            update_case(
                self.session,
                case,
                {**(changes or {}), "version": case.version + 1, "updated_at": ctx.now},
            )
        add_timeline_event(
            self.session, case, event_type, self.from_state, case.state, payload, ctx
        )
        ctx.audit(
            self.session,
            event_type,
            chain=self.partnership.code,
            case_id=case.id,
            detail={"version": case.version, "state": case.state},
        )
        notify_state_change(self.session, ctx, case, self.from_state)
