"""What the notification worker and sweep need to know (built from config.settings
by workflow.runtime; plain values so the domain never reads the environment)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SmtpConfig:
    host: str = "localhost"
    port: int = 25
    sender: str = "casereview@localhost"
    starttls: bool = False
    username: str | None = None
    password: str | None = None
    timeout_seconds: float = 10.0


@dataclass(frozen=True)
class NotifyConfig:
    webhook_timeout_seconds: float = 10.0
    # besides public addresses; workflow/notifications/egress.py
    webhook_allowed_networks: tuple[str, ...] = ()
    max_attempts: int = 8
    backoff_base_seconds: float = 30.0
    backoff_max_seconds: float = 6 * 3600.0
    lease_seconds: float = 60.0
    reminder_working_days: int = 5
    batch_size: int = 50
    smtp: SmtpConfig = SmtpConfig()

    def backoff_seconds(self, attempts: int) -> float:
        """Delay before the next try after `attempts` failed tries: base * 2^(attempts-1),
        capped. Deterministic (no jitter) so a schedule can be checked by hand."""
        return float(
            min(self.backoff_base_seconds * 2 ** max(attempts - 1, 0), self.backoff_max_seconds)
        )
