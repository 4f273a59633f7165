"""`casereview users set-password | invite`: a person's password, set by an
administrator or by the person through a one-time link.

Audited as the other account commands are ("cli:<OS login>" set whose password, or
invited whom); never the password, its hash or the link's token. Setting a password
ends every browser session of the user."""

from __future__ import annotations

import argparse
import getpass
import sys

from sqlalchemy.orm import Session

from api.cli_accounts import _actor, _now
from config.settings import get_settings
from workflow.access import accounts, invites, passwords
from workflow.core.errors import DomainError, InvalidFacts
from workflow.notifications.channels import DeliveryFailed
from workflow.notifications.invite_email import send_invite
from workflow.runtime import notify_config, open_database


def _read_password(args: argparse.Namespace) -> str | None:
    """One line of standard input (--password-stdin: only its line ending removed;
    spaces belong to the password), else asked twice at a terminal; None if neither."""
    if args.password_stdin:
        line = sys.stdin.readline()
        return line[:-1].removesuffix("\r") if line.endswith("\n") else line
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("New password: ")
    if getpass.getpass("Again: ") != first:
        raise DomainError("the two passwords differ; nothing was changed")
    return first


def cmd_set_password(args: argparse.Namespace) -> int:
    password = _read_password(args)
    if not password:
        print(
            "casereview: no password given: pipe one line into `--password-stdin`",
            file=sys.stderr,
        )
        return 2
    db = open_database(get_settings())

    def run(s: Session) -> None:
        user = accounts.get_user(s, args.username)
        passwords.set_password(s, user, password, now=_now(), by=_actor())

    try:
        db.write(run)
    except InvalidFacts as refused:
        print(
            f"casereview: password refused: {refused.detail}; nothing was changed", file=sys.stderr
        )
        return 2
    finally:
        db.dispose()
    print(f"password of {args.username!r} set; their browser sessions were ended")
    return 0


def cmd_invite(args: argparse.Namespace) -> int:
    settings = get_settings()
    db = open_database(settings)
    now = _now()

    def run(s: Session) -> tuple[str, str | None]:
        user = accounts.get_user(s, args.username)
        if not user.is_active:
            raise DomainError(f"user {args.username!r} is disabled: `users enable` them first")
        return invites.issue(s, user, now=now, by=_actor()), user.email

    try:
        token, email = db.write(run)
    finally:
        db.dispose()
    link = settings.base_url.rstrip("/") + invites.PATH + token
    expires = now + invites.VALID_FOR
    print(
        f"set-password link for {args.username!r}: valid for 72 hours (until "
        f"{expires:%Y-%m-%d %H:%M} UTC), once; shown once, earlier links no longer work:"
    )
    print(f"\n    {link}\n")
    if args.no_email or not settings.smtp_configured:
        return 0
    if not email:
        print(f"not e-mailed: {args.username!r} has no e-mail address (`users email`)")
        return 0
    try:
        send_invite(notify_config(settings).smtp, email, link, expires, now)
    except DeliveryFailed as failed:
        print(f"casereview: not e-mailed ({failed}): pass the link on another way", file=sys.stderr)
        return 0
    print(f"e-mailed to {args.username!r}'s address")
    return 0


def register(users: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Adds `set-password` and `invite` to `casereview users`."""
    p = users.add_parser(
        "set-password",
        help="set a user's password (ends their browser sessions)",
        description="Set a user's password. With --password-stdin it is the first line of "
        "standard input; otherwise it is asked twice at the terminal. A password the rules "
        "refuse (fewer than 12 characters, a common password, containing the username) "
        "changes nothing and exits 2 with the reason.",
    )
    p.add_argument("username", help="the user")
    p.add_argument(
        "--password-stdin", action="store_true", help="read the password from standard input"
    )
    p.set_defaults(func=cmd_set_password)
    p = users.add_parser(
        "invite",
        help="print a one-time set-password link (72 hours); e-mail it when SMTP is set",
        description="Print a link at which the user sets their own password: it works once, "
        "for 72 hours, and ends the user's earlier links. It starts with "
        "CASEREVIEW_BASE_URL. When CASEREVIEW_SMTP_HOST is set and the user has an e-mail "
        "address, the link is e-mailed to them too.",
    )
    p.add_argument("username", help="the user")
    p.add_argument("--no-email", action="store_true", help="only print the link")
    p.set_defaults(func=cmd_invite)
