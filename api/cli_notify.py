"""`casereview worker`, `sweep` and `purge-notifications`: notification delivery,
deadline reminders and the outbox's retention (docs/notifications.md). Logs carry
counts, never personal data."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from datetime import UTC, date, datetime, timedelta
from types import FrameType
from typing import Any

from config.settings import get_settings
from workflow.context import LOCAL_ZONE
from workflow.core.calendars import CalendarBook
from workflow.notifications.retention import purge
from workflow.notifications.sweep import sweep
from workflow.notifications.worker import default_channels, run_once
from workflow.runtime import notify_config, open_database
from workflow.storage.database import DatabaseUnavailable

log = logging.getLogger("casereview.worker")


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _cmd_worker(args: argparse.Namespace) -> int:
    settings = get_settings()
    logging.basicConfig(
        level=settings.log_level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    config = notify_config(settings)
    database = open_database(settings)
    channels = default_channels(config)
    stop = threading.Event()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %d: stopping after the current delivery", signum)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        while not stop.is_set():
            try:
                report = run_once(database, channels, config, _utcnow(), clock=_utcnow)
            except DatabaseUnavailable:
                if args.once:
                    raise
                log.warning("database unavailable; trying again in %.1f s", args.poll_seconds)
                stop.wait(args.poll_seconds)
                continue
            if report.messages or report.claimed:
                log.info(
                    "messages=%d fanned_out=%d claimed=%d delivered=%d retrying=%d dead=%d "
                    "lost=%d errors=%s",
                    report.messages,
                    report.fanned_out,
                    report.claimed,
                    report.delivered,
                    report.retrying,
                    report.dead,
                    report.lost,
                    report.errors or "{}",
                )
            if args.once:
                break
            if not (report.messages or report.claimed):  # busy: go straight on
                stop.wait(args.poll_seconds)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        database.dispose()
    log.info("worker stopped")
    return 0


def _cmd_sweep(args: argparse.Namespace) -> int:
    settings = get_settings()
    config = notify_config(settings)
    database = open_database(settings)
    now = datetime.now(UTC)
    today: date = args.date or now.astimezone(LOCAL_ZONE).date()
    calendars = CalendarBook.load(settings.calendar_file)
    try:
        found = database.write(
            lambda s: sweep(
                s,
                calendars,
                today=today,
                now=now,
                working_days=config.reminder_working_days,
            )
        )
    finally:
        database.dispose()
    for r in found:
        when = "late" if r.topic.endswith("missed") else "left"
        print(
            f"{r.topic}\tcase {r.reference}\t{r.deadline}\tdue {r.due_date}\t"
            f"{r.working_days} working day(s) {when}"
        )
    print(f"{len(found)} reminder(s) enqueued for {today}")
    return 0


def _days(text: str) -> int:
    days = int(text)
    if days < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return days


def _cmd_purge(args: argparse.Namespace) -> int:
    database = open_database(get_settings())
    before = datetime.now(UTC) - timedelta(days=args.older_than_days)

    def show(messages: int, deliveries: int) -> None:
        print(f"\rdeleted {messages} messages, {deliveries} deliveries", end="", file=sys.stderr)

    try:
        messages, deliveries = purge(database, before=before, progress=show)
    finally:
        database.dispose()
    print(
        f"\n{messages} finished message(s) and {deliveries} delivered delivery(ies) "
        f"created before {before:%Y-%m-%d %H:%M} UTC deleted"
    )
    return 0


def register(sub: Any) -> None:
    """Add `worker`, `sweep` and `purge-notifications` to `casereview`'s sub-commands."""
    p = sub.add_parser("worker", help="deliver notifications (webhooks, e-mail) until stopped")
    p.add_argument("--once", action="store_true", help="one pass, then exit")
    p.add_argument("--poll-seconds", type=float, default=5.0, help="wait between passes when idle")
    p.set_defaults(func=_cmd_worker)
    p = sub.add_parser(
        "sweep", help="enqueue deadline reminders (idempotent: run it from cron or a timer)"
    )
    p.add_argument(
        "--date", type=date.fromisoformat, help="the day to sweep for (default: today, UK)"
    )
    p.set_defaults(func=_cmd_sweep)
    p = sub.add_parser(
        "purge-notifications",
        help="delete delivered notifications older than N days (dead letters and "
        "reminders of still-pending deadlines are kept)",
    )
    p.add_argument("--older-than-days", type=_days, default=180, help="default: 180")
    p.set_defaults(func=_cmd_purge)
