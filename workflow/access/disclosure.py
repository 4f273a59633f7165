"""Personal data: which fields of a read are personal, and THE rule deciding who is
shown them. Every read that returns case data (a case, its timeline, its action
plan, the actions list, search and learning, exports, the web pages) asks
`shows_personal` and carries null in place of a field it withholds; nothing else
decides. Pure: no database access.

The rule:
- `case.read_personal` on the case (notifier, review group, the case's reviewer):
  every personal field of the case, its timeline, recommendations and actions.
- otherwise, the text of an action to the user it is assigned to (`owner_username`)
  while they hold `action.update` on the case: they do that work and report its
  progress. Only that action's own fields: not the recommendation it answers (the
  final report is a stage record, which the action's description restates as far as
  the work needs), not another action, not the timeline's payloads.
- nobody else (viewer, partnership admin, the national role, an action owner for
  other actions): such a read returns no personal data and writes no audit record.
"""

from __future__ import annotations

import uuid

from workflow.access.permissions import Perm
from workflow.access.principal import Principal

# What -> its personal fields (docs/permissions.md is generated from this).
PERSONAL_DATA: dict[str, tuple[str, ...]] = {
    "case (GET /cases/{id}, web case page)": ("records", "facts.close_reason"),
    "timeline event (GET /cases/{id}/timeline, web case page)": ("payload",),
    "recommendation (GET /cases/{id}/actions, web case page)": ("text",),
    "action (GET /cases/{id}/actions, GET /actions, web case page)": (
        "description",
        "owner",
        "owner_username",
        "status_reason",
        "updates[].note",
    ),
    "search (GET /search)": ("cases[].snippet", "recommendations[].text"),
    "learning (GET /learning/themes/{theme})": ("recurring_recommendations[].text",),
    "cases.csv (GET /exports/cases.csv)": ("close_reason",),
    "actions.csv (GET /exports/actions.csv)": (
        "description",
        "owner",
        "owner_username",
        "status_reason",
    ),
}


def shows_personal(
    principal: Principal,
    partnership_id: uuid.UUID,
    case_id: uuid.UUID,
    *,
    action_owner: str | None = None,
) -> bool:
    """Whether `principal` is shown the personal data of the case, or (`action_owner`
    given: the `owner_username` of one of its actions) of that action's own fields."""
    if principal.may(Perm.CASE_READ_PERSONAL, partnership_id, case_id):
        return True
    return (
        action_owner is not None
        and action_owner == principal.username
        and principal.may(Perm.ACTION_UPDATE, partnership_id, case_id)
    )


def markdown() -> str:
    """The personal-data section of docs/permissions.md."""
    lines = [
        "## Personal data",
        "",
        "Decided in one place, workflow/access/disclosure.py (`shows_personal`), for every",
        "read; a withheld field is null (the field names stay). Roles with",
        "`case.read_personal` on the case (notifier, review_group, the case's reviewer)",
        "see every personal field. An action owner sees the fields of the actions",
        "assigned to them (`owner_username`, while they hold `action.update`), not the",
        "recommendation text, other actions or timeline payloads. Viewer,",
        "partnership_admin and national see none. Each read that returns personal data",
        "writes one audit record per case whose personal data it returned (a read",
        "returning none writes none); a CSV export is audited once per partnership, and a",
        "command's answer (e.g. the action plan after a progress report), redacted alike,",
        "is audited as the command.",
        "",
        "No personal data in: `GET /cases` (the list), `/cases/{id}/next-actions`,",
        "`/dashboard`, `/reports/annual`, `/changes`, `/learning/summary`, `deadlines.csv`",
        "and the calendar feed. A case's document list shows unredacted documents only with",
        "`document.read_unredacted`. tests/access/test_permission_matrix.py asserts, for",
        "every read and page and every role, which of these fields it receives.",
        "",
        "| read | personal fields |",
        "|---|---|",
    ]
    for what, fields in PERSONAL_DATA.items():
        lines.append(f"| {what} | " + ", ".join(f"`{f}`" for f in fields) + " |")
    return "\n".join(lines) + "\n"
