"""Command bodies for the machines: valid-looking ones built from a case's own dates,
with draws that make some of them wrong (future dates, dates before earlier facts,
refused guards, decisions a rulebook has no route for, invalid combinations)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from tests.support.factories import BODIES, incident
from workflow.core.facts import DATE_FACTS

# Every command on an existing case (opening and thematic reviews have their own rules).
TRIGGERS = tuple(BODIES)
RULEBOOK_CHOICES = (
    None,  # the one in force on aware_date
    "england-2023",
    "england-panel-2025",
    "england-2018",
    "england-scr-2015",
    "england-scr-2006",
    "england-1999",  # unknown: refused
)
# Days between the case's latest recorded date and the command's date: mostly
# forwards, sometimes backwards (before an earlier fact: refused).
OFFSETS = st.sampled_from([0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 14, 21, 30, 60, 200, -1, -7])
VARIANTS = st.integers(0, 7)  # 7: the date may lie in the future (refused)
BACK_DAYS = st.sampled_from([0, 1, 2, 3, 4, 5, 6, 8, 12, 20, 40, 120, 400, 1500, 4000, -1])
# (notifiable?, rapid review owed?) -> criteria
CRITERIA = (
    {"nature": "serious_harm", "abuse_or_neglect": "suspected", "child_age_years": 0},
    {"nature": "death", "abuse_or_neglect": "known", "child_age_years": 3},
    {
        "nature": "death",
        "abuse_or_neglect": "not_suspected",
        "child_age_years": 15,
        "looked_after_child": True,
    },
    {"nature": "other", "abuse_or_neglect": "not_suspected", "child_age_years": 5},
)
# Facts that lie ahead by design: never an anchor for "what happened next".
_PLANNED = {"planned_publication_date", "deferral_review_by_date"}


def anchor(facts: dict[str, Any]) -> date:
    """The latest date the case has recorded as having happened."""
    dates = [facts[n] for n in DATE_FACTS if n not in _PLANNED and facts.get(n) is not None]
    return max(dates)


def incident_body(
    rulebook: str | None, aware: date, gap: int, criteria: int, reference: str
) -> dict[str, Any]:
    body = incident(
        aware_date=aware.isoformat(),
        incident_date=(aware - timedelta(days=gap)).isoformat(),
        criteria=CRITERIA[criteria],
        local_reference=reference,
    )
    if rulebook is not None:
        body["rulebook"] = rulebook
    return body


def command_body(
    trigger: str,
    facts: dict[str, Any],
    today: date,
    offset: int,
    variant: int,
    reviewer: str | None = None,
) -> dict[str, Any]:
    """A body for `trigger` dated `offset` days after the case's latest date (clamped to
    today unless `variant` is 7), with `variant` choosing among the command's options."""
    day = anchor(facts) + timedelta(days=offset)
    if variant != 7:
        day = min(day, today)
    iso = day.isoformat()

    def later(days: int) -> str:
        return (day + timedelta(days=days)).isoformat()

    body = {k: (iso if k.endswith("_date") else v) for k, v in BODIES[trigger].items()}
    if trigger == "record_notification":
        body["partners_informed_date"] = iso if variant % 2 else None
    elif trigger == "complete_rapid_review":
        body["recommended_decision"] = ("local_review", "no_review")[variant % 2]
    elif trigger == "record_decision":
        body["decision"] = (
            "local_review",
            "local_review",
            "no_review",
            "national_review_recommended",
        )[variant % 4]
        if body["decision"] == "no_review" and variant != 6:  # 6: no learning, invalid
            body["learning"] = "Learning taken forward by the partnership."
        body["sent_to_panel_date"] = iso if variant in (1, 2, 3) else None
    elif trigger == "record_panel_response":
        body["agrees_with_decision"] = variant % 2 == 0
        body["national_review"] = variant == 3
    elif trigger == "commission_reviewer":
        body["independence_declared"] = variant != 5
        if variant % 2 and reviewer:
            body["reviewer_username"] = reviewer
    elif trigger == "agree_terms_of_reference":
        body["scope_start_date"], body["scope_end_date"] = "2010-01-01", "2011-01-01"
    elif trigger == "receive_final_report":
        body["recommendations"] = [f"Recommendation {n}" for n in range(1, 2 + variant % 2)]
    elif trigger == "send_report_to_panel":
        body["planned_publication_date"] = later((3, 7, 10, 14, 30, 60, 9, 0)[variant])
    elif trigger == "defer_publication":
        body["review_by_date"] = later(60)
    elif trigger == "resume_publication" and variant % 2:
        body["planned_publication_date"] = later(20)
    elif trigger == "withdraw_notification":
        body["withdrawn_on"] = iso
        if variant % 2:
            body["reason"] = "duplicate"
            body["duplicate_of"] = None if variant == 5 else "SIN-0001"  # 5: invalid
    elif trigger == "conclude_criteria_not_met":
        body["panel_told_date"] = later(-1 if variant == 5 else variant % 3)  # 5: told before
    elif trigger == "record_involvement":
        milestones = (
            "family_informed",
            "family_invited",
            "family_contributed",
            "practitioner_event",
        )
        body["milestone"] = milestones[variant % 4]
    return body
