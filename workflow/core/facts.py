"""The facts a case records, by name. Rulebooks refer to them (deadlines count
from a date fact; guards read flags), so the names are part of the rulebook
contract: rename one only with a new rulebook version."""

from __future__ import annotations

# Dates, in the order the English process normally records them.
DATE_FACTS: tuple[str, ...] = (
    "incident_date",
    "aware_date",
    "notification_date",
    "partners_informed_date",
    "rapid_review_meeting_date",
    "rapid_review_sent_date",
    "decision_date",
    "decision_sent_to_panel_date",
    "panel_response_date",
    "reviewer_commissioned_date",
    "terms_of_reference_date",
    "final_report_date",
    "report_sent_to_panel_date",
    "planned_publication_date",
    "published_date",
    "withdrawn_date",
    "deferred_date",
    "deferral_review_by_date",
    "closed_date",
    "family_informed_date",
    "family_invited_date",
    "family_contributed_date",
    "family_declined_date",
    "family_told_before_publication_date",
    "practitioner_event_date",
)

# Flags and choices that guards read.
OTHER_FACTS: tuple[str, ...] = (
    "notifiable",
    "meets_review_criteria",
    "decision",
    "panel_agrees",
    "panel_takes_national_review",
    "reviewer_independent",
    "publication_status",
    "close_reason",
    "open_actions",
    "unactioned_recommendations",
    "carried_by_thematic",
    "kind",
)

ALL_FACTS: tuple[str, ...] = DATE_FACTS + OTHER_FACTS
