"""`casereview setup | partnerships | users | tokens`: accounts (audit: cli_audit.py).

Every change is audited by workflow/access/accounts.py as "cli:<OS login>" from
"cli <host name>": only as trustworthy as the machine's accounts, since whoever can run
the CLI holds the database's credentials."""

from __future__ import annotations

import argparse
import getpass
import os
import socket
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from config.settings import get_settings
from workflow.access import accounts, sign_on
from workflow.access.account_audit import Actor
from workflow.access.permissions import Role
from workflow.core.calendar import Division
from workflow.core.nations import DEFAULT_NATION, NATIONS
from workflow.runtime import open_database

ALL_ROLES = [r.value for r in Role]
FIRST_ADMIN_ROLES = [Role.PARTNERSHIP_ADMIN, Role.NOTIFIER, Role.REVIEW_GROUP]


def _now() -> datetime:
    return datetime.now(UTC)


def _actor() -> Actor:
    """Who runs the CLI, where: the audit records' actor and origin."""
    try:
        login = getpass.getuser()
    except (OSError, KeyError):  # no login in the environment or the password database
        login = f"uid-{os.getuid()}"
    return Actor(f"cli:{login}", f"cli {socket.gethostname()}")


def _issuer(given: str | None) -> str | None:
    """The sign-on issuer of a subject: --oidc-issuer, else CASEREVIEW_OIDC_ISSUER."""
    return given or get_settings().oidc_issuer


def _print_token(issued: accounts.IssuedToken, username: str) -> None:
    expiry = issued.expires_at.isoformat() if issued.expires_at else "never"
    print(f"token for {username} (id {issued.id}, expires {expiry}); shown once, keep it safe:")
    print(f"\n    {issued.secret}\n")


def cmd_setup(args: argparse.Namespace) -> int:
    """The first partnership and administrator; `--if-needed` does nothing when users exist."""
    db = open_database(get_settings())

    def run(s: Session) -> tuple[accounts.IssuedToken, str] | None:
        if args.if_needed and accounts.has_users(s):
            return None
        now, by = _now(), _actor()
        partnership = accounts.create_partnership(
            s, args.partnership, args.partnership_name, now, by=by
        )
        user = accounts.create_user(s, args.admin, "Administrator", now, system_admin=True, by=by)
        for role in FIRST_ADMIN_ROLES:
            accounts.grant_role(s, user, partnership, role, now=now, by=by)
        valid = timedelta(days=args.expires_days)
        token = accounts.create_token(s, user, "set-up", now, valid, by=by)
        return token, user.username

    result = db.write(run)
    db.dispose()
    if result is None:
        print("set-up already done (users exist); `casereview tokens create USER` for a token")
        return 0
    issued, username = result
    print(
        f"created partnership {args.partnership!r} and administrator {username!r} "
        f"({', '.join(FIRST_ADMIN_ROLES)})"
    )
    _print_token(issued, username)
    return 0


def cmd_partnership_add(args: argparse.Namespace) -> int:
    db = open_database(get_settings())
    db.write(
        lambda s: accounts.create_partnership(
            s, args.code, args.name, _now(), args.division, args.nation, by=_actor()
        )
    )
    print(f"partnership {args.code!r} ({args.nation}) created")
    return 0


def cmd_partnership_list(_args: argparse.Namespace) -> int:
    db = open_database(get_settings())
    for p in db.read(accounts.list_partnerships):
        print(f"{p.code:20} {p.nation:18} {p.division:20} {p.name}")
    return 0


def cmd_user_add(args: argparse.Namespace) -> int:
    db = open_database(get_settings())

    def run(s: Session) -> None:
        now, by = _now(), _actor()
        user = accounts.create_user(
            s,
            args.username,
            args.name or args.username,
            now,
            oidc_issuer=_issuer(args.oidc_issuer) if args.oidc_subject else None,
            oidc_subject=args.oidc_subject,
            email=args.email,
            by=by,
        )
        for role in args.role or []:
            partnership = accounts.get_partnership(s, args.partnership)
            accounts.grant_role(s, user, partnership, role, now=now, by=by)

    db.write(run)
    print(
        f"user {args.username!r} created"
        + (f" with {', '.join(args.role)} in {args.partnership!r}" if args.role else "")
    )
    return 0


def cmd_user_grant(args: argparse.Namespace) -> int:
    db = open_database(get_settings())
    db.write(
        lambda s: accounts.grant_role(
            s,
            accounts.get_user(s, args.username),
            accounts.get_partnership(s, args.partnership),
            args.role,
            now=_now(),
            by=_actor(),
        )
    )
    print(f"{args.username!r} is {args.role} in {args.partnership!r}")
    return 0


def cmd_user_revoke(args: argparse.Namespace) -> int:
    db = open_database(get_settings())
    had = db.write(
        lambda s: accounts.revoke_role(
            s,
            accounts.get_user(s, args.username),
            accounts.get_partnership(s, args.partnership),
            args.role,
            now=_now(),
            by=_actor(),
        )
    )
    print(
        f"{args.username!r} {'no longer' if had else 'was not'} {args.role} in {args.partnership!r}"
    )
    return 0


def cmd_user_active(args: argparse.Namespace) -> int:
    db = open_database(get_settings())
    active = args.action == "enable"
    db.write(
        lambda s: accounts.set_active(
            s, accounts.get_user(s, args.username), active, now=_now(), by=_actor()
        )
    )
    print(f"user {args.username!r} {'enabled' if active else 'disabled'}")
    return 0


def cmd_user_email(args: argparse.Namespace) -> int:
    db = open_database(get_settings())
    db.write(
        lambda s: accounts.set_email(
            s, accounts.get_user(s, args.username), args.address, now=_now(), by=_actor()
        )
    )
    print(
        f"{args.username!r} is reached at {args.address}"
        if args.address
        else f"{args.username!r} has no e-mail address"
    )
    return 0


def cmd_user_sign_on(args: argparse.Namespace) -> int:
    db = open_database(get_settings())
    issuer = _issuer(args.issuer) if args.subject else None
    db.write(
        lambda s: sign_on.set_sign_on(
            s, accounts.get_user(s, args.username), issuer, args.subject, now=_now(), by=_actor()
        )
    )
    print(
        f"{args.username!r} signs on as that subject of {issuer}"
        if args.subject
        else f"{args.username!r} is mapped to no sign-on subject"
    )
    return 0


def cmd_user_list(_args: argparse.Namespace) -> int:
    db = open_database(get_settings())
    rows = db.read(accounts.list_memberships)
    for username, code, role in rows:
        print(f"{username:24} {code or '-':20} {role or '-'}")
    return 0


def cmd_token_create(args: argparse.Namespace) -> int:
    db = open_database(get_settings())
    valid = timedelta(days=args.expires_days) if args.expires_days else None
    issued = db.write(
        lambda s: accounts.create_token(
            s, accounts.get_user(s, args.username), args.label, _now(), valid, by=_actor()
        )
    )
    _print_token(issued, args.username)
    return 0


def cmd_token_revoke(args: argparse.Namespace) -> int:
    db = open_database(get_settings())
    db.write(lambda s: accounts.revoke_token(s, uuid.UUID(args.token_id), _now(), by=_actor()))
    print(f"token {args.token_id} revoked")
    return 0


def cmd_token_list(args: argparse.Namespace) -> int:
    db = open_database(get_settings())
    for token, username in db.read(lambda s: accounts.list_tokens(s, args.username)):
        status = (
            "revoked"
            if token.revoked_at
            else ("expired" if token.expires_at and token.expires_at <= _now() else "active")
        )
        expiry = token.expires_at.date().isoformat() if token.expires_at else "never"
        print(f"{token.id}  {username:20} {status:8} expires {expiry:10}  {token.label}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("setup", help="create the first partnership and administrator")
    p.add_argument("--admin", default="admin", help="the administrator's username")
    p.add_argument("--partnership", default="demo", help="the first partnership's code")
    p.add_argument(
        "--partnership-name",
        default="Demo safeguarding partnership",
        help="the first partnership's name",
    )
    p.add_argument("--if-needed", action="store_true", help="skip when users already exist")
    p.add_argument("--expires-days", type=int, default=90, help="lifetime of the printed token")
    p.set_defaults(func=cmd_setup)

    part = sub.add_parser("partnerships", help="manage partnerships").add_subparsers(
        dest="action", required=True
    )
    p = part.add_parser("add", help="add a partnership")
    p.add_argument("code", help="short code used in commands and URLs (e.g. north)")
    p.add_argument("--name", required=True, help="the partnership's name as people read it")
    p.add_argument(
        "--nation",
        default=DEFAULT_NATION,
        choices=NATIONS,
        help="picks the default rulebook of new cases, the calendar and the words",
    )
    p.add_argument(
        "--division",
        default=None,
        choices=[d.value for d in Division],
        help="bank-holiday calendar; default: the nation's (must match it)",
    )
    p.set_defaults(func=cmd_partnership_add)
    part.add_parser("list", help="list partnerships").set_defaults(func=cmd_partnership_list)

    users = sub.add_parser("users", help="manage users and roles").add_subparsers(
        dest="action", required=True
    )
    p = users.add_parser("add", help="add a user (optionally with roles)")
    p.add_argument("username", help="the member of staff's login name")
    p.add_argument("--name", help="display name")
    p.add_argument("--partnership", help="partnership code for --role")
    p.add_argument(
        "--role", action="append", choices=ALL_ROLES, help="a role in --partnership (repeatable)"
    )
    p.add_argument("--oidc-subject", help="single sign-on subject (`sub`) mapped to this user")
    p.add_argument("--oidc-issuer", help="the subject's issuer (default CASEREVIEW_OIDC_ISSUER)")
    p.add_argument("--email", help="where e-mail subscriptions addressed to a role reach them")
    p.set_defaults(func=cmd_user_add)
    p = users.add_parser("email", help="set (or, without ADDRESS, clear) a user's e-mail address")
    p.add_argument("username", help="the user")
    p.add_argument("address", nargs="?", default=None, help="the e-mail address")
    p.set_defaults(func=cmd_user_email)
    p = users.add_parser(
        "sign-on", help="map a user to a sign-on subject (or, without SUBJECT, to none)"
    )
    p.add_argument("username", help="the user")
    p.add_argument("subject", nargs="?", default=None, help="the token's `sub`")
    p.add_argument("--issuer", help="the subject's issuer (default CASEREVIEW_OIDC_ISSUER)")
    p.set_defaults(func=cmd_user_sign_on)
    p = users.add_parser("grant", help="give a user one role in a partnership")
    p.add_argument("username", help="the user")
    p.add_argument("--partnership", required=True, help="partnership code")
    p.add_argument("--role", required=True, choices=ALL_ROLES, help="the role")
    p.set_defaults(func=cmd_user_grant)
    p = users.add_parser("revoke", help="remove one role")
    p.add_argument("username", help="the user")
    p.add_argument("--partnership", required=True, help="partnership code")
    p.add_argument("--role", required=True, choices=ALL_ROLES, help="the role")
    p.set_defaults(func=cmd_user_revoke)
    for verb in ("disable", "enable"):
        p = users.add_parser(verb, help=f"{verb} a user (all their tokens)")
        p.add_argument("username", help="the user")
        p.set_defaults(func=cmd_user_active)
    users.add_parser("list", help="list users and their roles").set_defaults(func=cmd_user_list)
    from api import cli_passwords  # imports this module's _actor: imported once both exist

    cli_passwords.register(users)

    tokens = sub.add_parser("tokens", help="manage API tokens").add_subparsers(
        dest="action", required=True
    )
    p = tokens.add_parser("create", help="create an API token (printed once)")
    p.add_argument("username", help="whose token")
    p.add_argument("--label", default="api", help="what the token is for (default: api)")
    p.add_argument("--expires-days", type=int, default=90, help="0: never expires")
    p.set_defaults(func=cmd_token_create)
    p = tokens.add_parser("revoke", help="revoke a token at once")
    p.add_argument("token_id", help="the id `tokens list` shows")
    p.set_defaults(func=cmd_token_revoke)
    p = tokens.add_parser("list", help="list tokens (not their secrets)")
    p.add_argument("username", nargs="?", help="only this user's (default: everyone's)")
    p.set_defaults(func=cmd_token_list)
