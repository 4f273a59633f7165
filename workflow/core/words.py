"""The one table that turns a stored value (an enum member, a field name) into words a
person reads: "Local review (LCSPR)", not `local_review`; "Health (ICB)", not
`health_icb`. Forms (their choices and labels) and pages use it; a value missing
from it is shown with its underscores as spaces (`word`).

The nation-specific names of bodies and reviews are in config/nations.yaml
(workflow/core/nations.py); what a permission lets a person do, for refusals, is in
workflow/access/permissions.py (`WORDS`). This table is for everything else.
Pure: no imports of ours.
"""

from __future__ import annotations

VALUES: dict[str, str] = {
    # decisions (workflow/commands/rapid_review.py)
    "local_review": "Local review (LCSPR)",
    "no_review": "No further review",
    "national_review_recommended": "National review recommended to the Panel",
    # parallel processes
    "police_investigation": "Police investigation",
    "criminal_proceedings": "Criminal proceedings",
    "coroner_inquest": "Coroner's inquest",
    "child_death_review": "Child death review",
    "domestic_homicide_review": "Domestic homicide review",
    "other": "Other",
    # publication (workflow/commands/publication.py)
    "overview_report": "Overview report",
    "executive_summary": "Executive summary",
    "improvement_report": "Improvement report",
    "media_statement": "Media statement",
    "learning_leaflet": "Learning leaflet",
    "terms_of_reference": "Terms of reference",
    "criminal_trial": "Criminal trial",
    "inquest": "Inquest",
    "unpublished_to_protect_identity": "Not published, to protect the child's identity",
    "improvements_published_instead": "Information about improvements published instead",
    # involvement milestones (workflow/commands/involvement.py)
    "family_informed": "Family informed of the review",
    "family_invited": "Family invited to contribute",
    "family_contributed": "Family contributed",
    "family_declined": "Family declined to take part",
    "family_told_before_publication": "Family told before publication",
    "practitioner_event": "Practitioner learning event",
    # a child (workflow/commands/intake.py)
    "female": "Female",
    "male": "Male",
    "not_known": "Not known",
    "none": "None",
    "child_protection": "Child protection plan",
    "child_in_need": "Child in need plan",
    # the notification criteria (workflow/core/criteria.py)
    "death": "Death (includes suspected suicide)",
    "serious_harm": "Serious harm",
    "known": "Known",
    "suspected": "Suspected",
    "not_suspected": "Neither known nor suspected",
    # agencies (workflow/cases/action_plan.py)
    "local_authority": "Local authority",
    "police": "Police",
    "health_icb": "Health (ICB)",
    "education": "Education",
    # action statuses
    "not_started": "Not started",
    "in_progress": "In progress",
    "completed_awaiting_evidence": "Completed, awaiting evidence",
    "completed_signed_off": "Completed and signed off",
    "not_achieved": "Closed as not achieved",
    # deadline adjustments (workflow/cases/deadline_adjustments.py)
    "pause": "Pause",
    "resume": "Resume",
    "extension": "Extension",
    # case kinds
    "thematic": "Thematic",
    # states, stages and other names that do not read well with spaces alone
    "lcspr": "Local child safeguarding practice review",
    "lcspr_published": "LCSPR published",
    "icb": "Integrated Care Board",
    "sin": "Serious incident notification",
    "not_notifiable": "Not notifiable",
    "action_plan": "Action plan",
    "pre_publication": "Before publication",
}

# Field names whose words are not their name with spaces.
FIELDS: dict[str, str] = {
    "url": "Web address",
    "improvements_url": "Web address of the information about improvements",
    "child_age_years": "Age of the child at the incident, in years",
    "age_years": "Age in years",
    "unborn": "Is the child unborn?",
    "looked_after_child": "Was the child looked after by the local authority?",
    "care_leaver": "Is the child a care leaver?",
    "occurred_in_area": "Did the incident happen in your area?",
    "resident_in_area_harmed_outside_england": (
        "Does the child normally live in your area but was harmed outside England?"
    ),
    "nature": "What happened to the child?",
    "abuse_or_neglect": "Is abuse or neglect known or suspected?",
    "looked_after": "Looked after",
    "known_to_agencies": "Known to agencies",
    "pseudonym": "Pseudonym (never the child's real name)",
    "agrees_with_decision": "Does the Panel agree with the decision?",
    "independence_declared": "Has the reviewer declared their independence?",
    "sent_to_panel_date": "Date sent to the Panel",
}


def _spaced(name: str) -> str:
    return name.replace("_", " ").replace("-", " ").capitalize()


def word(value: str | None) -> str:
    """A stored value in words (`VALUES`), else `not_a_word` -> `Not a word`."""
    if value is None:
        return ""
    return VALUES.get(value) or _spaced(value)


def working_days(n: int) -> str:
    """`1 working day`, `3 working days`."""
    return f"{n} working day{'' if n == 1 else 's'}"


def field_label(name: str) -> str:
    """A form field's label from its name (`FIELDS`), else its name with spaces."""
    return FIELDS.get(name) or _spaced(name)


# One row of a list field ("Add another"): its words, numbered on the form.
ROWS: dict[str, str] = {
    "children": "Child",
    "recommendations": "Recommendation",
    "key_lines_of_enquiry": "Key line of enquiry",
    "agencies_present": "Agency present",
    "agencies_involved": "Agency involved",
    "signed_off_by": "Partner who signed off",
    "partners": "Partner",
    "source_case_ids": "Case",
}


def row_label(name: str) -> str:
    """What one row of the list field `name` is called ("Recommendation")."""
    return ROWS.get(name) or _spaced(name)
