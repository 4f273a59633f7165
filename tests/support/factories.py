"""Small factories: command payloads with sensible dates, and `make_case` which
drives a case through the real engine to an explicit state."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from workflow.access.principal import Principal
from workflow.cases import action_plan as plan
from workflow.cases.engine import execute, open_case
from workflow.commands.base import Command
from workflow.commands.intake import LogIncident
from workflow.commands.registry import COMMANDS
from workflow.context import Context
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.database import Database
from workflow.storage.models import Recommendation

NOW = datetime(2026, 1, 15, 10, 0, tzinfo=UTC)


def incident(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "incident_date": "2025-03-01",
        "aware_date": "2025-03-03",
        "location": "Family home, Anytown",
        "criteria": {
            "nature": "serious_harm",
            "abuse_or_neglect": "suspected",
            "child_age_years": 0,
        },
        "children": [{"pseudonym": "Child A", "age_years": 0, "sex": "female"}],
        "case_outline": "Non-mobile infant presented at A&E with bruising.",
        "agencies_involved": ["Health visiting", "Police"],
    }
    body.update(overrides)
    return body


# trigger -> a valid body on the standard LCSPR path (dates in order, all in 2025).
BODIES: dict[str, dict[str, Any]] = {
    "record_notification": {
        "notification_date": "2025-03-07",
        "partners_informed_date": "2025-03-07",
    },
    "record_partners_informed": {
        "partners_informed_date": "2025-03-07",
        "partners": ["Police", "ICB"],
    },
    "complete_rapid_review": {
        "meeting_date": "2025-03-18",
        "sent_to_panel_date": "2025-03-20",
        "agencies_present": ["Local authority", "Police", "ICB"],
        "summary": "Facts gathered from all agencies.",
        "immediate_actions": "Sibling safety plan.",
        "learning": "Bruising protocol not followed.",
        "parallel_processes": ["police_investigation"],
        "recommended_decision": "local_review",
        "rationale": "Systemic learning likely.",
    },
    "record_decision": {
        "decision": "local_review",
        "decision_date": "2025-03-20",
        "reasons": "Potential for systemic learning.",
        "signed_off_by": ["Local authority", "Police", "ICB"],
    },
    "record_panel_response": {"response_date": "2025-04-01", "agrees_with_decision": True},
    "commission_reviewer": {
        "reviewer_name": "Jane Reviewer",
        "commissioned_date": "2025-04-10",
        "independence_declared": True,
    },
    "agree_terms_of_reference": {
        "agreed_date": "2025-04-24",
        "scope_start_date": "2024-01-01",
        "scope_end_date": "2025-03-01",
        "key_lines_of_enquiry": ["Response to bruising"],
    },
    "receive_final_report": {
        "received_date": "2025-08-01",
        "recommendations": ["Refresh the bruising protocol"],
    },
    "send_report_to_panel": {"sent_date": "2025-08-05", "planned_publication_date": "2025-08-20"},
    "publish_report": {"published_date": "2025-08-20", "url": "https://example.org/lcspr-child-a"},
    "defer_publication": {
        "deferred_date": "2025-08-10",
        "proceedings": ["criminal_trial"],
        "review_by_date": "2025-11-10",
    },
    "resume_publication": {"resumed_date": "2025-11-03", "reason": "Trial concluded."},
    "decide_not_to_publish": {
        "decided_date": "2025-08-12",
        "status": "improvements_published_instead",
        "reasons": "Publication would identify the family.",
    },
    "close_case": {"closed_date": "2025-12-01", "reason": "Review complete."},
    "record_involvement": {"milestone": "family_informed", "milestone_date": "2025-03-10"},
    "withdraw_publication": {"withdrawn_date": "2025-12-20", "available_on_request": True},
    "conclude_criteria_not_met": {
        "concluded_date": "2025-03-14",
        "reasons": "Injury found to be accidental; abuse or neglect no longer suspected.",
        "panel_told_date": "2025-03-17",
    },
    "withdraw_notification": {
        "withdrawn_on": "2025-03-10",
        "reason": "sent_in_error",
        "explanation": "Notified for the wrong child.",
    },
}

LCSPR_PATH = [
    "record_notification",
    "complete_rapid_review",
    "record_decision",
    "record_panel_response",
    "commission_reviewer",
    "agree_terms_of_reference",
    "receive_final_report",
    "send_report_to_panel",
    "publish_report",
    "close_case",
]
# state -> (incident overrides, triggers with body overrides) reaching it from start.
ROUTES: dict[str, list[tuple[str, dict[str, Any]]]] = {
    "notification_due": [],
    "not_notifiable": [
        (
            "incident",
            {
                "criteria": {
                    "nature": "other",
                    "abuse_or_neglect": "not_suspected",
                    "child_age_years": 5,
                }
            },
        )
    ],
}
_STATES_ON_PATH = [
    "rapid_review",
    "decision_due",
    "panel_response_due",
    "reviewer_commissioning",
    "terms_of_reference_due",
    "review_in_progress",
    "pre_publication",
    "publication_due",
    "action_plan_monitoring",
    "closed",
]
for _i, _state in enumerate(_STATES_ON_PATH):
    ROUTES[_state] = [(t, {}) for t in LCSPR_PATH[: _i + 1]]
ROUTES["no_review"] = [(t, {}) for t in LCSPR_PATH[:2]] + [
    ("record_decision", {"decision": "no_review", "learning": "Single-agency learning."}),
    ("record_panel_response", {}),
]
ROUTES["national_review"] = [(t, {}) for t in LCSPR_PATH[:3]] + [
    ("record_panel_response", {"national_review": True})
]
ROUTES["publication_deferred"] = [(t, {}) for t in LCSPR_PATH[:8]] + [("defer_publication", {})]
ROUTES["notified_no_review"] = [
    (
        "incident",
        {
            "criteria": {
                "nature": "death",
                "abuse_or_neglect": "not_suspected",
                "child_age_years": 15,
                "looked_after_child": True,
            }
        },
    ),
    ("record_notification", {}),
]


def command(trigger: str, **overrides: Any) -> Command:
    return COMMANDS[trigger].model_validate({**BODIES[trigger], **overrides})


def make_case(
    database: Database,
    rulebooks: RulebookRegistry,
    principal: Principal,
    state: str = "notification_due",
    *,
    now: datetime = NOW,
    **incident_overrides: Any,
) -> uuid.UUID:
    """A case driven through the real engine as `principal`, committed, ending in `state`."""
    steps = ROUTES[state]
    if steps and steps[0][0] == "incident":
        incident_overrides, steps = {**steps[0][1], **incident_overrides}, steps[1:]
    ctx = Context(rulebooks, principal, now)
    case = database.write(
        lambda s: open_case(s, ctx, LogIncident.model_validate(incident(**incident_overrides)))
    )
    case_id, version = case.id, case.version
    for trigger, overrides in steps:
        if trigger == "close_case" and case.state == "action_plan_monitoring":
            version = _complete_plan(database, ctx, case_id, version)
        cmd = command(trigger, **overrides)
        case = database.write(lambda s, c=cmd, v=version: execute(s, ctx, case_id, v, c))
        version = case.version
    assert case.state == state, f"factory reached {case.state}, not {state}"
    return case_id


def _complete_plan(database: Database, ctx: Context, case_id: uuid.UUID, version: int) -> int:
    """An action for every recommendation, completed and signed off; the new version."""
    recs = database.read(
        lambda s: list(
            s.scalars(select(Recommendation.number).where(Recommendation.case_id == case_id))
        )
    )
    for number in recs:
        body = plan.AddAction(
            recommendation_number=number,
            description="Act",
            agency="police",
            owner="DCI",
            due_date=date(2025, 10, 1),
        )
        case, action = database.write(
            lambda s, b=body, v=version: plan.add_action(s, ctx, case_id, v, b)
        )
        done = plan.ReportProgress(status="completed_awaiting_evidence", note="Done")
        case, _ = database.write(
            lambda s, v=case.version, a=action.id, d=done: plan.report_progress(
                s, ctx, case_id, v, a, d
            )
        )
        case, _ = database.write(
            lambda s, v=case.version, a=action.id: plan.sign_off(
                s, ctx, case_id, v, a, plan.SignOff(note="Seen")
            )
        )
        version = case.version
    return version
