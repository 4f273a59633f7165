"""Build the long-lived objects a process needs from its settings (no globals)."""

from __future__ import annotations

from config.settings import Settings
from workflow.audit.verification import Anchor
from workflow.commands.registry import COMMANDS
from workflow.core.facts import ALL_FACTS
from workflow.core.guards import GUARDS
from workflow.core.rulebook import RulebookRegistry, load_directory
from workflow.notifications.config import NotifyConfig, SmtpConfig
from workflow.storage.database import Database, make_engine


def load_rulebooks(settings: Settings) -> RulebookRegistry:
    """Load and validate every rulebook; raises RulebookInvalid listing each problem."""
    return load_directory(
        settings.rulebook_dir,
        default_id=settings.default_rulebook,
        known_guards=GUARDS,
        known_triggers=COMMANDS,
        known_facts=ALL_FACTS,
        nation_defaults=settings.nation_default_rulebooks,
    )


def audit_anchor(settings: Settings) -> Anchor | None:
    """The signed checkpoints audit verification compares with (None: not configured)."""
    if settings.audit_checkpoint_file is None:
        return None
    return Anchor(
        settings.audit_checkpoint_file,
        settings.audit_verify_key_file or settings.audit_signing_key_file,
    )


def open_database(settings: Settings) -> Database:
    engine = make_engine(
        settings.effective_database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        busy_timeout_ms=settings.sqlite_busy_timeout_ms,
        connect_timeout_s=settings.db_connect_timeout_seconds,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        lock_timeout_ms=settings.db_lock_timeout_ms,
    )
    return Database(engine, write_retries=settings.write_retries)


def notify_config(settings: Settings) -> NotifyConfig:
    """The notification worker's and sweep's settings (CASEREVIEW_NOTIFY_*, _SMTP_*)."""
    return NotifyConfig(
        webhook_timeout_seconds=settings.webhook_timeout_seconds,
        webhook_allowed_networks=tuple(str(n) for n in settings.webhook_allowed_networks),
        max_attempts=settings.notify_max_attempts,
        backoff_base_seconds=settings.notify_backoff_base_seconds,
        backoff_max_seconds=settings.notify_backoff_max_seconds,
        lease_seconds=settings.notify_lease_seconds,
        reminder_working_days=settings.notify_reminder_working_days,
        batch_size=settings.notify_batch_size,
        smtp=SmtpConfig(
            host=settings.smtp_host,
            port=settings.smtp_port,
            sender=settings.smtp_from,
            starttls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password,
            timeout_seconds=settings.smtp_timeout_seconds,
        ),
    )
