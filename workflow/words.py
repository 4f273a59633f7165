"""Words, not codes: the one table that turns a stored value (a state, stage, deadline,
agency, status or fact name) into plain English for people. Pure.

Most codes read well once their underscores are spaces (`decision_due` -> "Decision
due"); the table holds the ones that do not (initialisms, agencies)."""

from __future__ import annotations

# code -> the words shown for it (only where the mechanical rule reads badly).
WORDS: dict[str, str] = {
    "health_icb": "Health (Integrated Care Board)",
    "local_authority": "Local authority",
    "lcspr": "Local child safeguarding practice review",
    "lcspr_published": "LCSPR published",
    "icb": "Integrated Care Board",
    "sin": "Serious incident notification",
    "not_notifiable": "Not notifiable",
    "completed_awaiting_evidence": "Completed, awaiting evidence",
    "completed_signed_off": "Completed and signed off",
    "action_plan": "Action plan",
    "pre_publication": "Before publication",
}


def term(code: str | None) -> str:
    """The words for `code`: from the table, else `notification_due` -> "Notification due"."""
    if not code:
        return ""
    found = WORDS.get(code)
    if found is not None:
        return found
    return code.replace("_", " ").replace("-", " ").capitalize()


def working_days(n: int) -> str:
    """`1 working day`, `3 working days`."""
    return f"{n} working day{'' if n == 1 else 's'}"
