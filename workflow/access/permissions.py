"""Who may do what: THE permission table. The API, `next-actions` and the docs
derive from it; nothing else decides.

A role is held in one partnership (a membership). Its *scope* says which cases
it reaches: the partnership's own cases, only the cases the person is assigned
to (independent reviewers), or every partnership's (the national read-only role).
Seeing a case is `case.read`; a case outside every scope of the caller is
answered exactly like a case that does not exist.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from workflow.commands.registry import COMMANDS, granted_to


class Role(StrEnum):
    NOTIFIER = "notifier"  # local authority staff: log incidents, record the notification
    REVIEW_GROUP = "review_group"  # the case review sub-group: decisions, commissioning, ...
    REVIEWER = "reviewer"  # an independent reviewer: read and report on assigned cases
    ACTION_OWNER = "action_owner"  # agency staff: update their actions (no personal data)
    VIEWER = "viewer"  # dashboards: read-only, sensitive fields withheld
    PARTNERSHIP_ADMIN = "partnership_admin"  # members, tokens and the audit trail
    NATIONAL = "national"  # read-only across partnerships, no personal data


class Perm(StrEnum):
    CASE_LIST = "case.list"
    CASE_READ = "case.read"  # state, stage, dates, version: no personal data
    CASE_READ_PERSONAL = "case.read_personal"  # stage records, children, narrative, payloads
    DEADLINE_ADJUST = "deadline.adjust"  # pause, resume or extend a deadline
    ACTION_PLAN_MANAGE = "action_plan.manage"  # add actions, sign off, close unachieved
    ACTION_UPDATE = "action.update"  # record progress on an action (owners: their own)
    DOCUMENT_UPLOAD = "document.upload"
    DOCUMENT_READ = "document.read"  # redacted documents
    DOCUMENT_READ_UNREDACTED = "document.read_unredacted"
    THEME_TAG = "theme.tag"  # tag cases, recommendations and actions with themes
    AUDIT_VERIFY = "audit.verify"
    DASHBOARD_READ = "dashboard.read"  # summary figures and annual report: no personal data
    DATA_EXPORT = "data.export"  # CSV exports of the partnership's cases, deadlines, actions
    FEED_CREATE = "feed.create"  # calendar (.ics) feed tokens of the partnership's deadlines
    NOTIFICATIONS_READ = "notifications.read"  # subscriptions and deliveries (no personal data)
    NOTIFICATIONS_MANAGE = "notifications.manage"  # add/deactivate subscriptions, retry deliveries


Scope = Literal["partnership", "assigned", "all"]

# Which roles may fire each command is declared on the command's class
# (`Command.granted_to`, workflow/commands/); the table below takes it from there.
INTAKE = granted_to(Role.NOTIFIER)
REVIEW_GROUP_COMMANDS = granted_to(Role.REVIEW_GROUP)
READ_ALL = (
    Perm.CASE_LIST,
    Perm.CASE_READ,
    Perm.CASE_READ_PERSONAL,
    Perm.DOCUMENT_READ,
    Perm.DOCUMENT_READ_UNREDACTED,
)
READ_SUMMARY = (Perm.CASE_LIST, Perm.CASE_READ, Perm.DOCUMENT_READ)


def command(trigger: str) -> str:
    """The permission to fire a rulebook trigger."""
    return f"command.{trigger}"


# role -> (scope, permissions). Least privilege: only what the role's work needs.
TABLE: dict[Role, tuple[Scope, frozenset[str]]] = {
    Role.NOTIFIER: (
        "partnership",
        frozenset(
            [
                *READ_ALL,
                Perm.DOCUMENT_UPLOAD,
                *map(command, INTAKE),
                Perm.DASHBOARD_READ,
                Perm.DATA_EXPORT,
                Perm.FEED_CREATE,
            ]
        ),
    ),
    Role.REVIEW_GROUP: (
        "partnership",
        frozenset(
            [
                *READ_ALL,
                Perm.DEADLINE_ADJUST,
                Perm.ACTION_PLAN_MANAGE,
                Perm.ACTION_UPDATE,
                Perm.DOCUMENT_UPLOAD,
                Perm.THEME_TAG,
                *map(command, REVIEW_GROUP_COMMANDS),
                Perm.DASHBOARD_READ,
                Perm.DATA_EXPORT,
                Perm.FEED_CREATE,
                Perm.NOTIFICATIONS_READ,
                Perm.NOTIFICATIONS_MANAGE,
            ]
        ),
    ),
    Role.REVIEWER: (
        "assigned",
        frozenset(
            [
                Perm.CASE_LIST,
                Perm.CASE_READ,
                Perm.CASE_READ_PERSONAL,
                Perm.DOCUMENT_READ,
                Perm.DOCUMENT_READ_UNREDACTED,
                Perm.DOCUMENT_UPLOAD,
                *map(command, granted_to(Role.REVIEWER)),
                Perm.DASHBOARD_READ,
            ]
        ),
    ),
    Role.ACTION_OWNER: (
        "partnership",
        frozenset([*READ_SUMMARY, Perm.ACTION_UPDATE, Perm.DASHBOARD_READ, Perm.FEED_CREATE]),
    ),
    Role.VIEWER: (
        "partnership",
        frozenset([*READ_SUMMARY, Perm.DASHBOARD_READ, Perm.FEED_CREATE]),
    ),
    Role.PARTNERSHIP_ADMIN: (
        "partnership",
        frozenset(
            [
                *READ_SUMMARY,
                Perm.AUDIT_VERIFY,
                Perm.DASHBOARD_READ,
                Perm.DATA_EXPORT,
                Perm.FEED_CREATE,
                Perm.NOTIFICATIONS_READ,
                Perm.NOTIFICATIONS_MANAGE,
            ]
        ),
    ),
    Role.NATIONAL: ("all", frozenset([*READ_SUMMARY, Perm.DASHBOARD_READ])),
}

# Which fields are personal data, and who is shown them: workflow/access/disclosure.py.

# What each permission lets a person do, in words: a 403 says "your roles do not allow
# <words>" (never the enum's internal form). One entry per permission and per command.
WORDS: dict[str, str] = {
    Perm.CASE_LIST: "listing cases",
    Perm.CASE_READ: "seeing this case",
    Perm.CASE_READ_PERSONAL: "seeing personal data",
    Perm.DEADLINE_ADJUST: "adjusting deadlines",
    Perm.ACTION_PLAN_MANAGE: "managing the action plan",
    Perm.ACTION_UPDATE: "recording progress on actions",
    Perm.DOCUMENT_UPLOAD: "uploading documents",
    Perm.DOCUMENT_READ: "reading documents",
    Perm.DOCUMENT_READ_UNREDACTED: "reading unredacted documents",
    Perm.THEME_TAG: "tagging learning themes",
    Perm.AUDIT_VERIFY: "verifying the audit trail",
    Perm.DASHBOARD_READ: "seeing the dashboard",
    Perm.DATA_EXPORT: "exporting data",
    Perm.FEED_CREATE: "creating calendar feeds",
    Perm.NOTIFICATIONS_READ: "seeing notifications",
    Perm.NOTIFICATIONS_MANAGE: "managing notifications",
    # and one per command, from its class: "recording the decision"
    **{command(trigger): cls.doing for trigger, cls in COMMANDS.items()},
}


def words(perm: str) -> str:
    """What `perm` lets a person do, in words (a trigger missing from WORDS: its name)."""
    found = WORDS.get(perm)
    if found is not None:
        return found
    return perm.removeprefix("command.").replace("_", " ").replace(".", " ")


def refusal(perm: str, where: str = "") -> str:
    """A 403's detail: "your roles [in 'alpha'] do not allow adjusting deadlines"."""
    return f"your roles{f' in {where!r}' if where else ''} do not allow {words(perm)}"


def permissions_of(role: str) -> frozenset[str]:
    return TABLE[Role(role)][1]


def scope_of(role: str) -> Scope:
    return TABLE[Role(role)][0]


def markdown_table() -> str:
    """The permission table as Markdown (docs/permissions.md is generated from this)."""
    perms = [p.value for p in Perm] + [command(t) for t in (*INTAKE, *REVIEW_GROUP_COMMANDS)]
    perms = list(dict.fromkeys(perms))
    roles = list(Role)
    lines = [
        "| permission | " + " | ".join(r.value for r in roles) + " |",
        "|---|" + "---|" * len(roles),
        "| *scope* | " + " | ".join(scope_of(r) for r in roles) + " |",
    ]
    for perm in perms:
        marks = ["yes" if perm in permissions_of(r) else "" for r in roles]
        lines.append(f"| `{perm}` | " + " | ".join(marks) + " |")
    return "\n".join(lines) + "\n"


def markdown_refusals() -> str:
    """What a 403 says for each permission, as Markdown (from WORDS)."""
    lines = ["| permission | a 403 says: your roles do not allow ... |", "|---|---|"]
    lines += [f"| `{perm}` | {said} |" for perm, said in WORDS.items()]
    return "\n".join(lines) + "\n"
