"""`casereview backup | restore`: operations on the whole database (workflow/backup.py)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from config.settings import get_settings
from workflow import backup


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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
