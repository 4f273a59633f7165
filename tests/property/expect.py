"""Independent expectations of who may do what, and which dates a command may carry:
written from the permission table's intent and the domain's date rules, not from the
engine's checks (tests/property/oracle.py holds the deadline counting)."""

from __future__ import annotations

from datetime import date
from typing import Any

from tests.property.observe import Seen

READ_ONLY = {"viewer", "action_owner", "outsider"}


def must_refuse(actor: str, stale: bool, cmd: Any, before: Seen, today: date) -> str:
    """Why the command could not have succeeded, or "" (a partial, independent oracle)."""
    if actor in READ_ONLY:
        return f"{actor} may not command"
    if actor == "notifier" and cmd.trigger not in (
        "record_notification",
        "record_partners_informed",
        "withdraw_notification",
    ):
        return "a notifier runs intake only"
    if stale:
        return "stale version"
    dates = [v for v in cmd.model_dump().values() if isinstance(v, date)]
    past = [getattr(cmd, n) for n in type(cmd).past_dates if getattr(cmd, n) is not None]
    if any(d > today for d in past):
        return "a date in the future"
    if before.state == "closed" and cmd.trigger != "withdraw_publication":
        return "the case is closed"
    if before.state == "notification_withdrawn":
        return "the notification was withdrawn"
    aware = before.facts["aware_date"]  # None for a thematic review
    if (
        dates
        and aware is not None
        and min(dates) < aware
        and cmd.trigger != "agree_terms_of_reference"
    ):
        return "a date before awareness"
    return ""


def opening_is_valid(
    actor: str,
    rulebook: str | None,
    aware: date,
    gap: int,
    today: date,
) -> bool:
    """Independent: who may open a case, and when a rulebook accepts an aware_date."""
    if actor != "notifier" or aware > today or gap < 0:
        return False
    if rulebook is None:
        return aware >= date(2006, 4, 1)  # no rulebook before the LSCB Regulations 2006
    windows = {
        "england-scr-2006": (date(2006, 4, 1), date(2010, 3, 25)),
        "england-scr-2010": (date(2010, 3, 26), date(2013, 4, 14)),
        "england-scr-2013": (date(2013, 4, 15), date(2015, 3, 25)),
        "england-scr-2015": (date(2015, 3, 26), date(2019, 9, 28)),
        "england-2018": (date(2018, 6, 29), date(2023, 12, 14)),
        "england-2023": (date(2023, 12, 15), None),
        "england-panel-2025": (date(2025, 6, 1), None),
    }
    if rulebook not in windows:
        return False
    start, end = windows[rulebook]
    return aware >= start and (end is None or aware <= end)
