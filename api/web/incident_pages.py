"""Log an incident in the browser: question pages in the GOV.UK pattern (the statutory
criteria, then the children, then the details), "Check your answers", and a
confirmation that says what happens next and by when.

The pages are the case-opening command (workflow/commands/intake.py `LogIncident`,
`POST /api/v1/incidents`) split into steps; the fields come from its model
(api/web/fields.py). The answers so far travel in a hidden field of each page (never
in the address, never logged); each step is checked by validating the whole model
and keeping the errors of that step's fields, and the last POST validates the whole
model and opens the case through the API's gateway with the form's idempotency key.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session

from api.deps import ServicesDep
from api.gateway import Outcome, case_outcome
from api.schemas.cases import CaseSummary
from api.schemas.deadlines import DeadlineOut
from api.web import fields, posting
from api.web.form_view import Bound, bind, loose_errors, summary
from api.web.session import PageCtx, render, router, templates
from workflow.access.permissions import command as command_perm
from workflow.access.principal import Principal
from workflow.cases.engine import open_case
from workflow.commands.intake import LogIncident
from workflow.context import Context
from workflow.core.errors import CaseNotFound, Forbidden, IdempotencyKeyReused, InvalidFacts
from workflow.reads import queries

START = "/incidents/new"
ANSWERS = "answers"
MAX_ANSWERS = 200_000  # characters of the hidden answers: bounds what we parse
# The statutory criteria in the order the guidance asks them.
CRITERIA_ORDER = (
    "nature",
    "abuse_or_neglect",
    "looked_after_child",
    "care_leaver",
    "child_age_years",
    "unborn",
    "occurred_in_area",
    "resident_in_area_harmed_outside_england",
)


@dataclass(frozen=True)
class Step:
    name: str
    heading: str
    keys: tuple[str, ...]  # LogIncident's fields asked on this page


STEPS = (
    Step("criteria", "Does the incident meet the notification criteria?", ("criteria",)),
    Step("children", "The children", ("children",)),
    Step(
        "details",
        "About the incident",
        (
            "partnership",
            "incident_date",
            "aware_date",
            "location",
            "local_reference",
            "case_outline",
            "agencies_involved",
        ),
    ),
)
STEP = {s.name: s for s in STEPS}


def may_log(principal: Principal | None) -> bool:
    """Whether the person may open a case in any partnership (the dashboard's button)."""
    return principal is not None and bool(principal.partnerships_with(command_perm("log_incident")))


def _specs(principal: Principal) -> tuple[fields.Spec, ...]:
    """LogIncident's form fields: criteria in the guidance's order; the partnership asked
    only of someone who logs incidents for several; the rulebook is the default one."""
    out = []
    codes = sorted(
        g.partnership_code
        for g in principal.grants
        if g.partnership_id in principal.partnerships_with(command_perm("log_incident"))
    )
    for s in fields.specs(LogIncident):
        if s.key == "criteria":
            members = sorted(s.members, key=lambda m: CRITERIA_ORDER.index(m.key))
            s = replace(s, members=tuple(members))
        elif s.key == "partnership":
            if len(set(codes)) < 2:
                continue
            choices = tuple(fields.Choice(c, c) for c in dict.fromkeys(codes))
            s = replace(s, kind="radios", required=True, choices=choices, hint=None)
        elif s.key == "rulebook":
            continue
        out.append(s)
    return tuple(out)


def _answers(form: dict[str, Any], specs: tuple[fields.Spec, ...]) -> fields.Tree:
    """The answers so far, from the hidden field (anything malformed: a fresh start)."""
    raw = form.get(ANSWERS)
    tree = fields.initial(specs)
    if isinstance(raw, str) and len(raw) <= MAX_ANSWERS:
        try:
            kept = json.loads(raw)
        except ValueError:
            kept = None
        if isinstance(kept, dict):
            tree.update({s.key: kept[s.key] for s in specs if s.key in kept})
    return tree


def _step_fields(step: Step, specs: tuple[fields.Spec, ...]) -> list[fields.Spec]:
    return [s for s in specs if s.key in step.keys]


def _bound(
    step: Step, specs: tuple[fields.Spec, ...], tree: fields.Tree, errors: fields.Errors
) -> list[Bound]:
    shown = bind(_step_fields(step, specs), tree, errors)
    # The criteria page asks the criteria's questions themselves, not a "Criteria" group.
    return [p for b in shown for p in (b.parts if b.spec.kind == "group" else [b])]


def _errors(
    specs: tuple[fields.Spec, ...], tree: fields.Tree
) -> tuple[LogIncident | None, fields.Errors]:
    converted = fields.to_data(specs, tree)
    try:
        command = LogIncident.model_validate(converted.data)
    except ValidationError as exc:
        errors = fields.pydantic_errors(specs, exc.errors(), converted.kept)
        return None, {**errors, **converted.errors}
    return (None if converted.errors else command), converted.errors


def _of_step(step: Step, errors: fields.Errors) -> fields.Errors:
    return {n: m for n, m in errors.items() if n.split(".")[0].split("-")[0] in step.keys}


def _page(
    request: Request,
    ctx: Context,
    step: Step,
    specs: tuple[fields.Spec, ...],
    tree: fields.Tree,
    errors: fields.Errors,
    *,
    checking: bool,
    status: int = 200,
) -> HTMLResponse:
    bound = _bound(step, specs, tree, errors)
    back = STEPS.index(step) - 1
    context = {
        "principal": ctx.principal,
        "nav": "cases",
        "step": step,
        "fields": bound,
        "errors": summary(bound, errors),
        "loose": loose_errors(bound, errors),
        "answers": json.dumps(tree),
        "checking": checking,
        "back": STEPS[back].name if back >= 0 else None,
    }
    return render(request, "incident_step.html", context, status)


def _check_page(
    request: Request,
    ctx: Context,
    specs: tuple[fields.Spec, ...],
    tree: fields.Tree,
    errors: fields.Errors,
    status: int = 200,
) -> HTMLResponse:
    sections = [(s, _bound(s, specs, tree, {})) for s in STEPS]
    context = {
        "principal": ctx.principal,
        "nav": "cases",
        "sections": sections,
        "answers": json.dumps(tree),
        "idempotency_key": posting.new_key(),
        "loose": list(errors.values()),
    }
    return render(request, "incident_check.html", context, status)


@router.get(START, response_class=HTMLResponse)
async def incident_start(request: Request, ctx: PageCtx) -> HTMLResponse:
    if not may_log(ctx.principal):
        message = "Your roles do not allow logging an incident."
        return render(request, "cannot.html", {"principal": ctx.principal, "message": message}, 403)
    specs = _specs(ctx.principal)
    return _page(request, ctx, STEPS[0], specs, fields.initial(specs), {}, checking=False)


@router.post(START, response_class=HTMLResponse)
async def incident_post(request: Request, services: ServicesDep, ctx: PageCtx) -> Response:
    form = await posting.posted(request)
    if not posting.proved(request, form):
        return render(request, "refused.html", {"principal": ctx.principal}, 403)
    if not may_log(ctx.principal):
        message = "Your roles do not allow logging an incident."
        return render(request, "cannot.html", {"principal": ctx.principal, "message": message}, 403)
    specs = _specs(ctx.principal)
    tree = _answers(form, specs)
    step = STEP.get(str(form.get("step")))
    checking = form.get("checking") == "1"
    if step is not None:  # the answers of the page just sent replace the kept ones
        tree.update(fields.collect(_step_fields(step, specs), form))
        for verb, act in (("_add", fields.add_row), ("_remove", fields.remove_row)):
            target = form.get(verb)
            if isinstance(target, str) and act(specs, tree, target):
                return _page(request, ctx, step, specs, tree, {}, checking=checking)
    change = STEP.get(str(form.get("_change")))
    if change is not None:  # "Change" on the check page, or "Back" on a question page
        return _page(request, ctx, change, specs, tree, {}, checking=form.get("_from") == "check")
    command, errors = _errors(specs, tree)
    if step is not None:
        mine = _of_step(step, errors)
        if mine:
            return _page(request, ctx, step, specs, tree, mine, checking=checking, status=400)
        following = STEPS.index(step) + 1
        if not checking and following < len(STEPS):
            return _page(request, ctx, STEPS[following], specs, tree, {}, checking=False)
        return _check_page(request, ctx, specs, tree, {})
    if form.get("_action") != "submit":
        return _page(request, ctx, STEPS[0], specs, tree, {}, checking=False)
    first = next((s for s in STEPS if _of_step(s, errors)), None)
    if first is not None or command is None:
        step = first or STEPS[0]
        return _page(
            request, ctx, step, specs, tree, _of_step(step, errors), checking=True, status=400
        )
    return await _open(request, services, ctx, specs, tree, command, posting.key_of(form))


async def _open(
    request: Request,
    services: ServicesDep,
    ctx: Context,
    specs: tuple[fields.Spec, ...],
    tree: fields.Tree,
    command: LogIncident,
    key: str,
) -> Response:
    def work(session: Session) -> Outcome:
        return case_outcome(session, ctx, open_case(session, ctx, command), 201)

    try:
        outcome = await posting.run(
            services,
            ctx,
            action=command.trigger,
            case_id=None,
            api_path="/api/v1/incidents",
            command=command,
            key=key,
            work=work,
        )
    except InvalidFacts as exc:
        step = next((s for s in STEPS if exc.field in s.keys), None)
        errors = {exc.field: fields.in_words(exc.detail, specs)}
        if step is None:
            return _check_page(request, ctx, specs, tree, errors, 400)
        return _page(request, ctx, step, specs, tree, errors, checking=True, status=400)
    except IdempotencyKeyReused:
        said = (
            "These answers were already sent with other answers under the same form. "
            "Send them again."
        )
        return _check_page(request, ctx, specs, tree, {"": said}, 409)
    except Forbidden as exc:
        return render(
            request,
            "cannot.html",
            {"principal": ctx.principal, "message": exc.detail.capitalize()},
            403,
        )
    return RedirectResponse(f"/incidents/{outcome.body['id']}/logged", status_code=303)


@dataclass(frozen=True)
class Logged:
    case: CaseSummary
    state: str
    notifiable: bool | None
    notification: DeadlineOut | None  # the deadline the notification meets
    deadlines: list[DeadlineOut]  # every deadline still to meet, soonest first


def _logged(session: Session, ctx: Context, case_id: uuid.UUID) -> Logged:
    view = queries.view_of(session, ctx, queries.visible_case(session, ctx.principal, case_id))
    open_ = [DeadlineOut.of(d) for d in view.deadlines if d.state in ("pending", "overdue")]
    open_.sort(key=lambda d: d.due_date or date.max)
    notification = next((d for d in open_ if d.met_by_fact == "notification_date"), None)
    return Logged(
        CaseSummary.of(view.case), view.case.state, view.case.notifiable, notification, open_
    )


@router.get("/incidents/{case_id}/logged", response_class=HTMLResponse)
async def incident_logged(
    case_id: uuid.UUID, request: Request, services: ServicesDep, ctx: PageCtx
) -> HTMLResponse:
    try:
        logged = await services.read(lambda s: _logged(s, ctx, case_id))
    except CaseNotFound:
        return render(request, "not_found.html", {"principal": ctx.principal, "what": "case"}, 404)
    return render(
        request,
        "incident_logged.html",
        {"principal": ctx.principal, "nav": "cases", "logged": logged},
    )


templates.env.globals.update(may_log_incident=may_log)
