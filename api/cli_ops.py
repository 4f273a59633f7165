"""`casereview backup | restore`: operations on the whole database (workflow/jobs/backup.py);
`casereview documents clean-orphans`: what crashed uploads left in the document store
(workflow/documents/cleanup.py)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.settings import get_settings
from workflow.documents.cleanup import clean_uploads
from workflow.documents.storage import LocalDiskStorage
from workflow.jobs import backup
from workflow.runtime import open_database


def _settings_url() -> str:
    settings = get_settings()
    return settings.effective_database_url


def cmd_backup(args: argparse.Namespace) -> int:
    url, target = _settings_url(), Path(args.path)
    try:
        if backup.is_sqlite(url):
            summary = backup.backup_sqlite(url, target, force=args.force)
        else:
            summary = backup.backup_postgresql(
                url, target, force=args.force, pg_bindir=args.pg_bindir
            )
    except backup.BackupError as exc:
        print(f"casereview backup: {exc}", file=sys.stderr)
        return 1
    print(f"backup written: {summary.describe()}")
    return 0


def cmd_restore(args: argparse.Namespace) -> int:
    url, source = _settings_url(), Path(args.path)
    try:
        if backup.is_sqlite(url):
            summary = backup.restore_sqlite(url, source, force=args.force)
        else:
            summary = backup.restore_postgresql(
                url, source, force=args.force, pg_bindir=args.pg_bindir
            )
    except backup.BackupError as exc:
        print(f"casereview restore: {exc}", file=sys.stderr)
        return 1
    print(f"restored: {summary.describe()}; now run `casereview audit verify`")
    return 0


def cmd_clean_orphans(args: argparse.Namespace) -> int:
    settings = get_settings()
    minutes = (
        settings.upload_leftover_minutes
        if args.older_than_minutes is None
        else args.older_than_minutes
    )
    database = open_database(settings)
    try:
        report = clean_uploads(
            database,
            LocalDiskStorage(settings.effective_documents_dir),
            datetime.now(UTC),
            older_than=timedelta(minutes=minutes),
            everything=True,
            dry_run=args.dry_run,
            client="casereview documents clean-orphans",
        )
    finally:
        database.dispose()
    print(("would be (dry run): " if args.dry_run else "") + report.describe())
    if report.missing:
        print(
            f"casereview documents clean-orphans: {report.missing} committed version(s) have "
            "no content in the store (restore the documents directory from its backup)",
            file=sys.stderr,
        )
        return 1
    return 0


def _minutes(text: str) -> int:
    minutes = int(text)
    if minutes < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return minutes


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    documents = sub.add_parser("documents", help="the document store").add_subparsers(
        dest="action", required=True
    )
    p = documents.add_parser(
        "clean-orphans",
        help="move committed uploads a crash left unplaced into place; remove unfinished "
        "uploads and stored files no version refers to, once older than the threshold "
        "(audited; also run at start-up for unfinished uploads)",
    )
    p.add_argument(
        "--older-than-minutes",
        type=_minutes,
        default=None,
        help="leftovers younger than this may be live uploads and are kept (default: "
        "CASEREVIEW_UPLOAD_LEFTOVER_MINUTES, 60); 0 only while no server uses the store",
    )
    p.add_argument("--dry-run", action="store_true", help="count; change nothing")
    p.set_defaults(func=cmd_clean_orphans)
    for name, func, help_text, path_help in (
        (
            "backup",
            cmd_backup,
            "copy the database to PATH while the application runs "
            "(SQLite: online backup; PostgreSQL: pg_dump --format=custom)",
            "file to write (refused if it exists, unless --force)",
        ),
        (
            "restore",
            cmd_restore,
            "restore a backup into the configured database (stop the application first; "
            "then run `casereview audit verify`)",
            "backup file to read",
        ),
    ):
        p = sub.add_parser(name, help=help_text)
        p.add_argument("path", metavar="PATH", help=path_help)
        p.add_argument(
            "--force", action="store_true", help="overwrite an existing file or database"
        )
        p.add_argument(
            "--pg-bindir", type=Path, default=None, help="where pg_dump / pg_restore are"
        )
        p.set_defaults(func=func)
