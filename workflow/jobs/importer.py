"""Bringing in an existing case log: each row becomes a case entered through the real
commands (open_case, execute), so its states, timeline, audit records and deadlines
are exactly those of a case entered live, with the row's historic dates.

Every row is checked first by running its commands in a transaction that is rolled
back, so the rules are the engine's own; with any problem (or a dry run) nothing is
written. Then every row is entered in ONE transaction. A row whose local_reference
the partnership already has is skipped as "already imported": a re-run adds nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, TypeVar

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.access import accounts
from workflow.access.permissions import TABLE, Perm, command
from workflow.cases import action_plan as plans
from workflow.cases.engine import execute, open_case
from workflow.commands.intake import LogIncident
from workflow.commands.registry import COMMANDS
from workflow.context import Context
from workflow.core.errors import DomainError, InvalidFacts
from workflow.jobs.import_rows import NOT_RECORDED, Problem, Row, Step, locate, parse, plan
from workflow.storage.database import Database
from workflow.storage.models import Action, Case, Recommendation

T = TypeVar("T")
Progress = Callable[[str, int, int], None]  # phase ("checking" / "importing"), done, total
PLAN_PERMS = (Perm.ACTION_PLAN_MANAGE, Perm.ACTION_UPDATE)


class RowRefused(DomainError):
    """The engine (or the row's own cells) refused a row; nothing of it was written."""

    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(map(str, problems)))
        self.problems = problems


@dataclass(frozen=True)
class RowOutcome:
    row: int
    reference: str
    outcome: str  # "imported", "would import", "already imported"
    state: str = ""
    rulebook: str = ""

    def __str__(self) -> str:
        where = f" -> {self.state} ({self.rulebook})" if self.state else ""
        return f"row {self.row}, {self.reference}: {self.outcome}{where}"


@dataclass
class ImportReport:
    rows: list[RowOutcome] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    written: bool = False

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    def summary(self) -> str:
        skipped = self.count("already imported")
        if self.problems:
            return f"{len(self.problems)} problem(s); nothing written"
        if not self.written:
            return f"dry run: {self.count('would import')} to import, {skipped} already imported"
        return f"{self.count('imported')} imported, {skipped} already imported"


@dataclass(frozen=True)
class Prepared:
    row: Row
    reference: str
    steps: list[Step]


def import_rows(
    db: Database,
    ctx: Context,
    partnership: str,
    rows: Sequence[Row],
    *,
    header_problems: Iterable[Problem] = (),
    dry_run: bool = False,
    progress: Progress | None = None,
) -> ImportReport:
    """Check every row, then (unless a dry run or any problem) import them all at once.

    `ctx.principal` is the actor; without the roles the rows need, DomainError before
    anything is checked or written."""
    report = ImportReport(problems=list(header_problems))
    ready = _prepare(rows, report.problems)
    _require_roles(db, ctx, partnership, ready)
    trial = _rolled_back(db, lambda s: _enter_all(s, ctx, partnership, ready, True, progress))
    report.rows = trial.rows
    report.problems = sorted(report.problems + trial.problems, key=lambda p: p.row or 0)
    if report.problems or dry_run:
        return report
    try:
        report.rows = db.write(
            lambda s: _enter_all(s, ctx, partnership, ready, False, progress)
        ).rows
    except RowRefused as exc:  # the log changed since the check (e.g. a concurrent import)
        report.problems = exc.problems
        return report
    report.written = True
    return report


def _prepare(rows: Sequence[Row], problems: list[Problem]) -> list[Prepared]:
    ready: list[Prepared] = []
    seen: dict[str, int] = {}
    for row in rows:
        values, found = parse(row)
        steps, unused = plan(values, row.number)
        reference = str(values.get("local_reference", ""))
        if reference and reference in seen:
            found.append(
                Problem(row.number, "local_reference", f"duplicate of row {seen[reference]}")
            )
        seen.setdefault(reference, row.number)
        problems += found + unused
        if not found and not unused:
            ready.append(Prepared(row, reference, steps))
    return ready


def _require_roles(db: Database, ctx: Context, code: str, ready: list[Prepared]) -> None:
    needed = {command("log_incident")} | {command(s.trigger) for p in ready for s in p.steps}
    if "command.close_case" in needed and "command.receive_final_report" in needed:
        needed |= set(PLAN_PERMS)  # closing after publication signs off the action plan
    partnership = db.read(lambda s: accounts.get_partnership(s, code))
    missing = {p for p in needed if not ctx.principal.may(p, partnership.id, None)}
    if missing:
        roles, left = [], set(missing)
        while left:  # the fewest roles that grant what is missing
            role, (_, perms) = max(TABLE.items(), key=lambda item: len(left & item[1][1]))
            roles.append(role.value)
            left -= perms
        shown = ", ".join(sorted(p.removeprefix("command.") for p in missing))
        raise DomainError(
            f"{ctx.actor} may not {shown} in partnership {code!r}; grant the role(s) "
            f"{', '.join(roles)} (`casereview users grant`) or import as someone who has them"
        )


def _rolled_back(db: Database, fn: Callable[[Session], T]) -> T:
    """Run `fn` in a write transaction that is always rolled back."""
    with db.sessions() as session:
        if db.is_sqlite:
            session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
        try:
            return fn(session)
        finally:
            session.rollback()


def _enter_all(
    session: Session,
    ctx: Context,
    code: str,
    ready: list[Prepared],
    trial: bool,
    progress: Progress | None,
) -> ImportReport:
    partnership = accounts.get_partnership(session, code)
    session.refresh(partnership, with_for_update=True)  # imports to one partnership queue up
    existing = set(
        session.scalars(select(Case.local_reference).where(Case.partnership_id == partnership.id))
    )
    report = ImportReport()
    for done, item in enumerate(ready, start=1):
        if item.reference in existing:
            report.rows.append(RowOutcome(item.row.number, item.reference, "already imported"))
        else:
            try:
                with session.begin_nested():
                    case = enter(session, ctx, code, item.row.number, item.steps)
                existing.add(item.reference)
                outcome = "would import" if trial else "imported"
                report.rows.append(
                    RowOutcome(
                        item.row.number, item.reference, outcome, case.state, case.rulebook_id
                    )
                )
            except RowRefused as exc:
                if not trial:
                    raise
                report.problems += exc.problems
        if progress:
            progress("checking" if trial else "importing", done, len(ready))
    return report


def enter_row(session: Session, ctx: Context, code: str, row: Row) -> Case:
    """One row entered as a case (used by the demo data); RowRefused with its problems."""
    values, problems = parse(row)
    steps, unused = plan(values, row.number)
    if problems or unused:
        raise RowRefused(problems + unused)
    return enter(session, ctx, code, row.number, steps)


def enter(session: Session, ctx: Context, code: str, number: int, steps: list[Step]) -> Case:
    """Run the row's commands in order; RowRefused naming the row and column of the
    first command the engine refuses."""
    case: Case | None = None
    for step in steps:
        payload = {**step.payload, "partnership": code} if case is None else step.payload
        try:
            cmd = COMMANDS[step.trigger].model_validate(payload)
        except ValidationError as exc:
            if case is not None and step.trigger not in _triggers(ctx, case):
                state = f"{step.trigger!r} is not allowed while the case is in state {case.state!r}"
                raise RowRefused([Problem(number, step.column, state)]) from None
            raise RowRefused([_invalid(number, step, e) for e in exc.errors()]) from None
        try:
            if case is None:
                assert isinstance(cmd, LogIncident)
                case = open_case(session, ctx, cmd)
                continue
            if step.trigger == "close_case" and case.state == "action_plan_monitoring":
                _sign_off_plan(session, ctx, case, step.payload.get("closed_date"))
            case = execute(session, ctx, case.id, case.version, cmd)
        except DomainError as exc:
            fact = exc.field if isinstance(exc, InvalidFacts) else None
            column, message = locate(step, [fact] if fact else [], exc.detail)
            if fact is None and step.column:
                column = step.column
            raise RowRefused([Problem(number, column, message)]) from None
    assert case is not None
    return case


def _triggers(ctx: Context, case: Case) -> list[str]:
    return ctx.rulebooks.get(case.rulebook_id, case.rulebook_version).triggers_from(case.state)


def _invalid(number: int, step: Step, error: Any) -> Problem:
    text = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        text = f"required for {step.trigger}"
    column, message = locate(step, error["loc"], text)
    return Problem(number, column, message)


def _sign_off_plan(session: Session, ctx: Context, case: Case, closed: date | None) -> None:
    """A case log that closes a published review kept its action plan elsewhere: each
    recommendation gets an action, signed off through the real plan commands."""
    actioned = select(Action.recommendation_id).where(Action.case_id == case.id)
    numbers = select(Recommendation.number).where(
        Recommendation.case_id == case.id, Recommendation.id.not_in(actioned)
    )
    for number in list(session.scalars(numbers.order_by(Recommendation.number))):
        body = plans.AddAction(
            recommendation_number=number,
            description=f"Action plan kept outside this system. {NOT_RECORDED}.",
            agency="other",
            agency_name=NOT_RECORDED,
            owner=NOT_RECORDED,
            due_date=closed or ctx.today,
        )
        case = add_action(session, ctx, case, body, "completed_signed_off", NOT_RECORDED)


def add_action(
    session: Session, ctx: Context, case: Case, body: plans.AddAction, status: str, note: str
) -> Case:
    """An action added through the real plan commands and taken to `status`
    (not_started, in_progress, completed_awaiting_evidence, completed_signed_off)."""
    case, action = plans.add_action(session, ctx, case.id, case.version, body)
    if status != "not_started":
        kind = "in_progress" if status == "in_progress" else "completed_awaiting_evidence"
        progress = plans.ReportProgress(status=kind, note=note)
        case, _ = plans.report_progress(session, ctx, case.id, case.version, action.id, progress)
    if status == "completed_signed_off":
        off = plans.SignOff(note=note)
        case, _ = plans.sign_off(session, ctx, case.id, case.version, action.id, off)
    return case
