"""Application settings: one pydantic-settings object, read when asked, never at import.

Every value can be set by an environment variable prefixed CASEREVIEW_
(e.g. CASEREVIEW_DATABASE_URL) or in a `.env` file in the working directory.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
RULEBOOK_DIR = Path(__file__).resolve().parent / "rulebooks"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CASEREVIEW_", env_file=".env", extra="ignore")

    data_dir: Path = Field(
        default=PROJECT_ROOT / "data",
        description="Where the embedded SQLite database and files live.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default: SQLite file casereview.db in data_dir. "
        "PostgreSQL: postgresql+psycopg://user:password@host/dbname",
    )
    rulebook_dir: Path = RULEBOOK_DIR
    calendar_file: Path = Field(
        default=Path(__file__).resolve().parent / "calendar.yaml",
        description="Local closure days and worked bank holidays (config/calendar.yaml).",
    )
    rag_amber_working_days: int = Field(
        default=3,
        ge=0,
        le=60,
        description="A pending deadline is amber within this many "
        "working days of its due date (green before, red when overdue or met late).",
    )
    # --- the web home page, "What needs attention" (docs/web.md) ---
    attention_deadline_working_days: int = Field(
        default=5,
        ge=0,
        le=60,
        description="Home page: deadlines due within this many working days are listed "
        "(with the overdue ones).",
    )
    attention_action_working_days: int = Field(
        default=10,
        ge=0,
        le=120,
        description="Home page: open actions due within this many working days are listed "
        "(with the overdue ones).",
    )
    attention_stalled_working_days: int = Field(
        default=20,
        ge=1,
        le=2000,
        description="Home page: a case in one stage for longer than this many working "
        "days is listed as stalled, deadline or not.",
    )
    attention_stalled_by_stage: dict[str, int] = Field(
        default_factory=dict,
        description="Per-stage thresholds overriding attention_stalled_working_days, as "
        'JSON, e.g. \'{"decision": 10, "review": 130}\'.',
    )
    default_rulebook: str = Field(
        default="england-2023",
        description="The rulebook of new cases of English partnerships (when in force on "
        "the aware date; else the English one in force then).",
    )
    # Per nation (docs/nations.md): the rulebook of a partnership's new cases follows its
    # nation; each must be a loaded rulebook of that nation.
    default_rulebook_wales: str = "wales-susr-2024"
    default_rulebook_scotland: str = "scotland-learning-review-2021"
    default_rulebook_northern_ireland: str = "northern-ireland-cmr-2012"
    nations_file: Path = Field(
        default=Path(__file__).resolve().parent / "nations.yaml",
        description="Each nation's words: board, national body, review (config/nations.yaml).",
    )
    documents_dir: Path | None = Field(
        default=None, description="Where uploaded documents are stored; default data_dir/documents."
    )
    max_upload_bytes: int = Field(
        default=25_000_000, ge=1_000, description="Largest accepted document upload."
    )
    upload_leftover_minutes: int = Field(
        default=60,
        ge=5,
        le=10_080,
        description="A crashed upload's part file (or a stored file no version refers to) "
        "is removed once older than this: long past any upload still running in another "
        "worker or host sharing the document store (docs/operations.md).",
    )
    themes_file: Path = Field(
        default=Path(__file__).resolve().parent / "themes.yaml",
        description="The learning-theme taxonomy (partnerships may add their own).",
    )
    # --- database: pool, timeouts, retries (README "Production", docs/operations.md) ---
    db_pool_size: int = Field(
        default=20,
        ge=1,
        le=200,
        description="Connections kept per worker process; with db_max_overflow, size it to "
        "the worker's thread limit (40) and keep workers x (size + overflow) under the "
        "server's max_connections.",
    )
    db_max_overflow: int = Field(default=20, ge=0, le=200)
    db_loop_connections: int = Field(
        default=4,
        ge=0,
        le=50,
        description="PostgreSQL: connections per worker process, besides the pool, for the "
        "version checks of conditional GETs run on the event loop; 0: those run on the pool "
        "in a worker thread.",
    )
    db_pool_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Wait for a free pooled connection, then answer 503."
    )
    db_connect_timeout_seconds: int = Field(
        default=5,
        ge=2,
        le=120,
        description="PostgreSQL: give up opening a connection after this long (503).",
    )
    db_statement_timeout_ms: int = Field(
        default=10_000,
        ge=0,
        description="PostgreSQL: the server cancels a statement running longer (503); 0 = none.",
    )
    db_lock_timeout_ms: int = Field(
        default=5_000,
        ge=0,
        description="PostgreSQL: the server gives up waiting for a row lock (503); 0 = none.",
    )
    sqlite_busy_timeout_ms: int = Field(default=5000, ge=0)
    write_retries: int = Field(
        default=3, ge=0, le=10, description="Retries of a command on a serialisation failure."
    )
    auth_cache_seconds: float = Field(
        default=10.0,
        ge=0,
        le=300,
        description="How long a process reuses an authenticated API token (0: off). "
        "Revoking a token, disabling a user or removing a role through another process "
        "(CLI, another worker) takes effect within this time; in the same process at once.",
    )
    # --- rate limits (docs/operations.md "Rate limits"): in-process, per worker ---
    rate_limit_auth_failures: int = Field(
        default=20,
        ge=0,
        description="Failed authentications (401) accepted per client address per window; "
        "the next ones are answered 429 until the window ends (0: off). A valid credential "
        "from that address is still served.",
    )
    rate_limit_requests: int = Field(
        default=600,
        ge=0,
        description="Requests accepted per authenticated user per window, then 429 until "
        "the window ends (0: off).",
    )
    rate_limit_window_seconds: int = Field(
        default=60, ge=1, le=3600, description="The window both rate limits count in."
    )
    # --- the web dashboard's sessions and the server behind a proxy (docs/operations.md) ---
    session_idle_minutes: int = Field(
        default=30,
        ge=1,
        le=24 * 60,
        description="A browser session ends after this long without a page being opened "
        "(the case page's background checks do not count).",
    )
    session_absolute_hours: int = Field(
        default=12,
        ge=1,
        le=24 * 7,
        description="A browser session ends this long after sign-in, however active.",
    )
    # --- password sign-in: lockout after repeated failures (workflow/access/passwords.py) ---
    sign_in_account_failures: int = Field(
        default=5,
        ge=1,
        le=100,
        description="Failed password sign-ins to one username within the window that "
        "lock it for `sign_in_lockout_minutes`.",
    )
    sign_in_address_failures: int = Field(
        default=20,
        ge=1,
        le=1000,
        description="Failed password sign-ins from one client address within the window "
        "that lock that address out.",
    )
    sign_in_window_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="The window failed sign-ins are counted in."
    )
    sign_in_lockout_minutes: int = Field(
        default=15, ge=1, le=24 * 60, description="How long a locked account or address waits."
    )
    base_url: str = Field(
        default="http://127.0.0.1:8000",
        pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$",
        description="Where people reach the dashboard (e.g. https://reviews.example.org): "
        "the start of the set-password links `casereview users invite` prints and e-mails.",
    )
    cookie_secure: Literal["always", "auto"] = Field(
        default="auto",
        description="`auto`: the session cookie is Secure when the request arrived over "
        "HTTPS (directly, or as a trusted proxy's X-Forwarded-Proto says); `always`: "
        "Secure whatever the scheme (set it whenever users reach the site over HTTPS).",
    )
    forwarded_allow_ips: str | None = Field(
        default=None,
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies "
        "whose X-Forwarded-For / X-Forwarded-Proto `casereview serve` believes; unset: "
        "forwarded headers are ignored from everyone. `--forwarded-allow-ips` overrides.",
    )
    docs_enabled: bool = Field(default=True, description="Serve /docs and /openapi.json.")
    cors_origins: list[str] = Field(
        default_factory=list, description="Origins allowed by CORS; empty: CORS off."
    )
    oidc_issuer: str | None = Field(default=None, description="Single sign-on: JWT issuer.")
    oidc_audience: str | None = None
    oidc_jwks_file: Path | None = None
    oidc_jwks_url: str | None = None
    oidc_user_claim: str = Field(
        default="preferred_username",
        description="Single sign-on: the claim matched to a local username, and only when "
        "CASEREVIEW_OIDC_MATCH_USERNAME is on.",
    )
    oidc_match_username: bool = Field(
        default=False,
        description="Single sign-on: let a token whose issuer + subject are mapped to no "
        "user reach the user whose username equals its CASEREVIEW_OIDC_USER_CLAIM. Never "
        "reaches a user mapped to a subject. Off: only mapped users sign on.",
    )
    max_body_bytes: int = Field(
        default=1_000_000, ge=1_000, description="Largest accepted request body."
    )
    # Notifications (docs/notifications.md)
    notify_reminder_working_days: int = Field(
        default=5,
        ge=0,
        le=60,
        description="deadline.approaching is sent this many working days before the due date.",
    )
    notify_max_attempts: int = Field(
        default=8, ge=1, le=50, description="A delivery is dead after this many failed tries."
    )
    notify_backoff_base_seconds: float = Field(
        default=30.0, ge=0, description="Retry n waits base * 2^(n-1) seconds (capped)."
    )
    notify_backoff_max_seconds: float = Field(default=21600.0, ge=0)
    notify_lease_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How long a claimed delivery is reserved for its worker; keep it longer "
        "than the webhook / SMTP timeouts.",
    )
    notify_batch_size: int = Field(default=50, ge=1, le=1000)
    webhook_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    webhook_allowed_networks: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description="Networks (CIDR, JSON list) a webhook may reach besides public "
        "addresses, e.g. '[\"10.20.0.0/16\"]'; loopback and private ranges are refused "
        "otherwise.",
    )
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "casereview@localhost"
    smtp_starttls: bool = False
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # --- audit checkpoints (docs/audit.md): outside the database they protect ---
    audit_checkpoint_file: Path | None = Field(
        default=None,
        description="Append-only file of signed checkpoints of every audit chain "
        "(`casereview audit checkpoint`); `audit verify` and GET /audit/verification "
        "compare the chains with it. Unset: truncation, a removed chain and rewriting "
        "with recomputed hashes cannot be detected. Keep it off the database's host or "
        "ship it elsewhere.",
    )
    audit_signing_key_file: Path | None = Field(
        default=None,
        description="Ed25519 private key (PEM) that signs checkpoints; only the "
        "checkpoint job needs it (`casereview audit keygen`). Never in the database.",
    )
    audit_verify_key_file: Path | None = Field(
        default=None,
        description="Ed25519 public key (PEM) that verifies checkpoints; default: the "
        "public half of audit_signing_key_file. The API needs only this.",
    )
    log_level: str = "INFO"
    structured_logs: bool = Field(
        default=False, description="JSON logs on stderr (`casereview serve` turns them on)."
    )

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: str | None) -> str | None:
        return check_proxy_addresses(value)

    @property
    def nation_default_rulebooks(self) -> dict[str, str]:
        """nation -> the default rulebook id of its partnerships' new cases."""
        return {
            "england": self.default_rulebook,
            "wales": self.default_rulebook_wales,
            "scotland": self.default_rulebook_scotland,
            "northern_ireland": self.default_rulebook_northern_ireland,
        }

    @property
    def effective_documents_dir(self) -> Path:
        return self.documents_dir or self.data_dir / "documents"

    @property
    def smtp_configured(self) -> bool:
        """CASEREVIEW_SMTP_HOST was set (the default, localhost, is no decision to mail)."""
        return "smtp_host" in self.model_fields_set

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'casereview.db').as_posix()}"


def check_proxy_addresses(value: str | None) -> str | None:
    """Trusted proxy addresses as uvicorn takes them ("10.0.0.5,10.1.0.0/16"), or None
    for none. `*` (trust every peer) is refused: anyone could then claim any address
    and scheme. ValueError names the first entry that is not an address or network."""
    if value is None or not value.strip():
        return None
    items = [item.strip() for item in value.split(",")]
    for item in items:
        try:
            ipaddress.ip_network(item, strict=False)
        except ValueError:
            raise ValueError(
                f"forwarded_allow_ips: {item!r} is not an IP address or network (CIDR)"
            ) from None
    return ",".join(items)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings, read from the environment on first use."""
    return Settings()
