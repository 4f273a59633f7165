"""`casereview import | demo-data`: bringing in a case log, and demo data."""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session
from tqdm import tqdm  # type: ignore[import-untyped,unused-ignore]

from config.settings import get_settings
from workflow.access import accounts
from workflow.access.principal import Principal
from workflow.context import Context
from workflow.core.calendars import CalendarBook
from workflow.core.errors import DomainError
from workflow.jobs.demo import load_demo
from workflow.jobs.import_rows import COLUMNS, read_table
from workflow.jobs.importer import import_rows
from workflow.runtime import load_rulebooks, open_database


class _Bars:
    """One tqdm progress bar per phase (checking, importing), on stderr."""

    def __init__(self) -> None:
        self.bars: dict[str, Any] = {}

    def __call__(self, phase: str, done: int, total: int) -> None:
        bar = self.bars.get(phase)
        if bar is None:
            self.close()
            bar = self.bars[phase] = tqdm(total=total, desc=phase, unit="row", file=sys.stderr)
        bar.update(done - bar.n)

    def close(self) -> None:
        for bar in self.bars.values():
            bar.close()
        self.bars.clear()


def cmd_import(args: argparse.Namespace) -> int:
    settings = get_settings()
    path = Path(args.file)
    if not path.is_file():
        raise ValueError(f"{path}: no such file")
    rows, header_problems = read_table(path)
    db = open_database(settings)

    def actor(s: Session) -> Principal:
        user = accounts.get_user(s, args.as_user)
        if not user.is_active:
            raise DomainError(f"user {args.as_user!r} is disabled")
        return accounts.principal_for(s, user)

    ctx = Context(
        load_rulebooks(settings),
        db.read(actor),
        datetime.now(UTC),
        "casereview import",  # audit client; never the file name (it may name someone)
        CalendarBook.load(settings.calendar_file),
        settings.rag_amber_working_days,
    )
    bars = _Bars()
    try:
        report = import_rows(
            db,
            ctx,
            args.partnership,
            rows,
            header_problems=header_problems,
            dry_run=args.dry_run,
            progress=bars,
        )
    finally:
        bars.close()
        db.dispose()
    print(f"{path.name}: {len(rows)} row(s) as {args.as_user} into {args.partnership!r}")
    for line in [*report.problems, *report.rows]:
        print(f"  {line}")
    print(report.summary())
    return 1 if report.problems else 0


def cmd_demo_data(_args: argparse.Namespace) -> int:
    settings = get_settings()
    db = open_database(settings)
    started = time.monotonic()
    result = load_demo(
        db,
        load_rulebooks(settings),
        CalendarBook.load(settings.calendar_file),
        datetime.now(UTC),
    )
    db.dispose()
    print(
        f"demo data: {len(result.created)} case(s) created, {len(result.existing)} already "
        f"there, {len(result.users)} user(s) created ({time.monotonic() - started:.1f}s)"
    )
    for username, issued in result.tokens:
        expiry = issued.expires_at.date().isoformat() if issued.expires_at else "never"
        print(f"token for {username} (expires {expiry}); shown once:\n\n    {issued.secret}\n")
    if result.existing and not result.tokens:
        print("demo users exist; `casereview tokens create demo.review_group` for a token")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    columns = "\n".join(f"  {name:27} {meaning}" for name, meaning in COLUMNS.items())
    p = sub.add_parser(
        "import",
        help="import an existing case log (.csv or .xlsx, one row per case)",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Each filled column drives its case forward through the real commands; "
        "every row is checked first and nothing is written if any row has a problem. A row "
        "whose local_reference the partnership already has is skipped. Template: "
        "docs/import-template.csv.",
        epilog=f"columns (row 1 is the header):\n{columns}",
    )
    p.add_argument("file", help="FILE.csv or FILE.xlsx (first sheet)")
    p.add_argument("--partnership", required=True, help="partnership code")
    p.add_argument(
        "--as", dest="as_user", required=True, metavar="USERNAME", help="who enters the cases"
    )
    p.add_argument("--dry-run", action="store_true", help="check every row; write nothing")
    p.set_defaults(func=cmd_import)
    p = sub.add_parser(
        "demo-data", help="load fictional demo cases and users (partnerships demo, demo-north)"
    )
    p.set_defaults(func=cmd_demo_data)
