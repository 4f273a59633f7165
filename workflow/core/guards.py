"""Guards: the rules a rulebook names on its transitions, defined in code.

A guard reads the case's facts *as they would be after the command* (the
recorded facts overlaid with the command's own) and answers yes or no. The
description is what a refused caller is told.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

Facts = Mapping[str, Any]


@dataclass(frozen=True)
class Guard:
    name: str
    description: str
    check: Callable[[Facts], bool]


GUARDS: dict[str, Guard] = {
    g.name: g
    for g in (
        Guard(
            "incident_is_notifiable",
            "the incident meets a notification criterion",
            lambda f: bool(f.get("notifiable")),
        ),
        Guard(
            "meets_rapid_review_criteria",
            "the incident meets the serious incident criteria (rapid review required)",
            lambda f: bool(f.get("meets_review_criteria")),
        ),
        Guard(
            "panel_takes_national_review",
            "the Panel has decided to carry out a national review",
            lambda f: bool(f.get("panel_takes_national_review")),
        ),
        Guard(
            "decision_is_local_review",
            "the partners decided to commission a local review (LCSPR)",
            lambda f: f.get("decision") == "local_review",
        ),
        Guard(
            "decision_is_no_review",
            "the partners decided that no further review is needed",
            lambda f: f.get("decision") == "no_review",
        ),
        Guard(
            "reviewer_declared_independent",
            "the reviewer has declared independence from the case and the agencies reviewed",
            lambda f: f.get("reviewer_independent") is True,
        ),
        Guard(
            "report_sent_to_panel",
            "the final report has been sent to the Panel and the Secretary of State",
            lambda f: f.get("report_sent_to_panel_date") is not None,
        ),
        Guard(
            "action_plan_complete",
            "every recommendation has an action and every action is signed off or closed "
            "with a recorded reason",
            lambda f: (
                int(f.get("open_actions") or 0) == 0
                and int(f.get("unactioned_recommendations") or 0) == 0
            ),
        ),
        Guard(
            "is_thematic_review",
            "the case is a thematic review",
            lambda f: f.get("kind") == "thematic",
        ),
        Guard(
            "learning_carried_by_thematic",
            "a thematic review carries this case's learning",
            lambda f: bool(f.get("carried_by_thematic")),
        ),
        Guard(
            "report_published",
            "the report was published",
            lambda f: f.get("published_date") is not None,
        ),
    )
}
