"""`casereview`: the command line. Like the HTTP routes it only parses, calls a
service and prints; it lives beside them because `serve` starts the web app."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from api import cli_accounts
from config.settings import get_settings
from workflow import migrate
from workflow.errors import DomainError, RulebookInvalid
from workflow.runtime import load_rulebooks


def _cmd_migrate(args: argparse.Namespace) -> int:
    settings = get_settings()
    url = settings.effective_database_url
    if url.startswith("sqlite"):
        settings.data_dir.mkdir(parents=True, exist_ok=True)
    if args.downgrade:
        migrate.downgrade(url, args.downgrade)
    else:
        migrate.upgrade(url, "head")
    print(f"database schema is at {args.downgrade or 'head'} ({_redact(url)})")
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    import uvicorn

    load_rulebooks(get_settings())  # refuse to start on an invalid rulebook, with the reasons
    os.environ.setdefault("CASEREVIEW_STRUCTURED_LOGS", "true")  # inherited by every worker
    uvicorn.run(
        "api.main:create_app",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_config=None,
        access_log=False,
        proxy_headers=False,
    )
    return 0


def _cmd_check_rulebooks(_args: argparse.Namespace) -> int:
    registry = load_rulebooks(get_settings())
    for rb in registry.all():
        print(
            f"{rb.id} v{rb.version}: {len(rb.states)} states, {len(rb.transitions)} "
            f"transitions, {len(rb.deadlines)} deadlines - ok"
        )
    return 0


def _redact(url: str) -> str:
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        return f"{scheme}://***@{rest.split('@', 1)[1]}"
    return url


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casereview", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("migrate", help="apply database migrations (creates the SQLite file)")
    p.add_argument("--downgrade", metavar="REVISION", help="downgrade to REVISION (e.g. base)")
    p.set_defaults(func=_cmd_migrate)
    p = sub.add_parser("serve", help="serve the HTTP API")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--workers", type=int, default=1)
    p.set_defaults(func=_cmd_serve)
    p = sub.add_parser("check-rulebooks", help="load and validate every rulebook")
    p.set_defaults(func=_cmd_check_rulebooks)
    cli_accounts.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        code: int = args.func(args)
    except (RulebookInvalid, DomainError, ValueError) as exc:
        print(f"casereview: {exc}", file=sys.stderr)
        return 2
    return code


if __name__ == "__main__":
    sys.exit(main())
