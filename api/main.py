"""The FastAPI application factory. Nothing is built at import time.

`create_app(settings)` validates the rulebooks (start-up fails on an invalid one)
and opens the database in the lifespan; routes reach them through api.deps.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from fastapi import Depends, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from api import errors, openapi, web
from api.conditional_get import ConditionalCaseGet
from api.deps import LoopReader, Services
from api.input_limits import JsonDepthLimitMiddleware, query_character_policy
from api.middleware import BodySizeLimitMiddleware, HeadersMiddleware
from api.observability import AccessLogMiddleware, configure_logging
from api.routes import (
    action_plan,
    admin,
    cases,
    changes,
    commands,
    corrections,
    dashboard,
    documents,
    exports,
    health,
    learning,
    notifications,
    rulebooks,
)
from config.settings import Settings, get_settings
from workflow.access.oidc import OidcConfig, OidcVerifier
from workflow.access.passwords import LockoutPolicy
from workflow.access.rate_limit import RateLimits
from workflow.access.sessions import SessionPolicy
from workflow.access.token_cache import TokenCache
from workflow.core.calendars import CalendarBook
from workflow.core.errors import DomainError
from workflow.core.nations import NationBook
from workflow.core.themes import Taxonomy
from workflow.documents.cleanup import clean_uploads
from workflow.documents.storage import LocalDiskStorage
from workflow.jobs.maintenance import unknown_calendar_partnerships
from workflow.reads.attention import AttentionPolicy
from workflow.runtime import audit_anchor, load_rulebooks, open_database
from workflow.storage.database import Database
from workflow.storage.loop_reader import PgLoopReader

log = logging.getLogger("api")

DESCRIPTION = """\
Statutory case reviews of serious child safeguarding incidents (England:
Working Together 2023). Each case is a state machine driven by typed commands;
every change is on the case's timeline. Errors are RFC 9457 problem+json.
Commands need `If-Match` with the case's ETag (its version).
"""


class CaseReviewApp(FastAPI):
    """FastAPI with the access log and the headers middleware outermost.

    `add_middleware` places middleware inside Starlette's ServerErrorMiddleware, which
    renders the 500 of an unhandled exception (errors._on_unexpected): that answer
    would then carry no X-Request-ID or security headers, and its access line no
    request id. Wrapping the whole stack gives every response both."""

    def build_middleware_stack(self) -> ASGIApp:
        return AccessLogMiddleware(HeadersMiddleware(super().build_middleware_stack()))


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    registry = load_rulebooks(settings)  # fail fast, before serving anything

    oidc = oidc_verifier(settings)
    calendars = CalendarBook.load(settings.calendar_file)
    taxonomy = Taxonomy.load(settings.themes_file)  # an invalid file stops start-up
    nations = NationBook.load(settings.nations_file)  # so does a nation without its words

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if settings.structured_logs:
            configure_logging(settings.log_level)
        database = open_database(settings)
        storage = LocalDiskStorage(settings.effective_documents_dir)
        app.state.services = Services(
            database=database,
            storage=storage,
            rulebooks=registry,
            calendars=calendars,
            oidc=oidc,
            rag_amber_working_days=settings.rag_amber_working_days,
            taxonomy=taxonomy,
            tokens=TokenCache(settings.auth_cache_seconds),
            loop_reader=LoopReader(database) if database.is_sqlite else None,
            limits=RateLimits(
                auth_failures=settings.rate_limit_auth_failures,
                requests=settings.rate_limit_requests,
                window_seconds=settings.rate_limit_window_seconds,
            ),
            pg_reader=pg_loop_reader(settings, database),
            sessions=SessionPolicy(
                idle=timedelta(minutes=settings.session_idle_minutes),
                absolute=timedelta(hours=settings.session_absolute_hours),
            ),
            lockout=LockoutPolicy.from_settings(settings),
            cookie_secure=settings.cookie_secure == "always",
            audit_anchor=audit_anchor(settings),
            nations=nations,
            attention=AttentionPolicy(
                deadline_working_days=settings.attention_deadline_working_days,
                action_working_days=settings.attention_action_working_days,
                stalled_working_days=settings.attention_stalled_working_days,
                stalled_by_stage=settings.attention_stalled_by_stage,
            ),
        )
        _warn_about_calendar(database, calendars)
        _settle_uploads(database, storage, settings)
        try:
            yield
        finally:
            if app.state.services.loop_reader is not None:
                app.state.services.loop_reader.close()
            if app.state.services.pg_reader is not None:
                await app.state.services.pg_reader.close()
            database.dispose()

    app = CaseReviewApp(
        title="Case review workflow engine",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs" if settings.docs_enabled else None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs_enabled else None,
        dependencies=[Depends(query_character_policy)],
    )
    errors.install(app)
    openapi.install(app)
    for module in (
        health,
        commands,
        corrections,
        cases,
        rulebooks,
        admin,
        action_plan,
        learning,
        documents,
        changes,
        dashboard,
        exports,
        notifications,
    ):
        app.include_router(module.router)
    app.include_router(web.router)  # the HTML dashboard at /
    app.mount("/static", web.static_files(), name="static")
    app.add_middleware(ConditionalCaseGet)  # innermost: CORS, headers, access log wrap it
    app.add_middleware(JsonDepthLimitMiddleware)  # inside the body size limit
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PUT"],
            expose_headers=["ETag", "Location"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "If-Match",
                "If-None-Match",
                "Idempotency-Key",
            ],
        )
    app.state.max_upload_bytes = settings.max_upload_bytes
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.max_body_bytes,
        overrides=[
            (documents.UPLOAD_PATHS, settings.max_upload_bytes + documents.MULTIPART_OVERHEAD)
        ],
    )
    return app  # HeadersMiddleware and AccessLogMiddleware: CaseReviewApp


def _warn_about_calendar(database: Database, calendars: CalendarBook) -> None:
    """A misspelt partnership code in config/calendar.yaml would silently do nothing."""
    try:
        unknown = unknown_calendar_partnerships(database, calendars)
    except DomainError:  # database not reachable yet: /readyz will say so
        return
    if unknown:
        log.warning(
            "config/calendar.yaml names partnerships that do not exist: %s", ", ".join(unknown)
        )


def _settle_uploads(database: Database, storage: LocalDiskStorage, settings: Settings) -> None:
    """Uploads a crash interrupted (workflow/documents/cleanup.py): the scratch space
    only, so start-up stays quick however large the store; `casereview documents
    clean-orphans` also looks for placed files no version refers to."""
    try:
        report = clean_uploads(
            database,
            storage,
            datetime.now(UTC),
            older_than=timedelta(minutes=settings.upload_leftover_minutes),
            client="start-up",
            audit_always=False,
        )
    except Exception as exc:  # the database not reachable (or not migrated) yet
        log.warning("upload leftovers not checked at start-up: %s", type(exc).__name__)
        return
    if report.changed:
        log.warning("upload leftovers at start-up: %s", report.describe())


def oidc_verifier(settings: Settings) -> OidcVerifier | None:
    """The single sign-on verifier when an issuer is configured, else None."""
    if not settings.oidc_issuer:
        return None
    if not settings.oidc_audience:
        raise ValueError("CASEREVIEW_OIDC_AUDIENCE is required with CASEREVIEW_OIDC_ISSUER")
    return OidcVerifier(
        OidcConfig(
            issuer=settings.oidc_issuer,
            audience=settings.oidc_audience,
            jwks_file=settings.oidc_jwks_file,
            jwks_url=settings.oidc_jwks_url,
            user_claim=settings.oidc_user_claim,
            match_username=settings.oidc_match_username,
        )
    )


def pg_loop_reader(settings: Settings, database: Database) -> PgLoopReader | None:
    """PostgreSQL: the event loop's connections for version checks (workflow/
    loop_reader.py), unless CASEREVIEW_DB_LOOP_CONNECTIONS is 0."""
    if database.is_sqlite or settings.db_loop_connections == 0:
        return None
    return PgLoopReader.for_engine(
        database.engine,
        size=settings.db_loop_connections,
        connect_timeout_s=settings.db_connect_timeout_seconds,
        statement_timeout_ms=settings.db_statement_timeout_ms,
        lock_timeout_ms=settings.db_lock_timeout_ms,
    )
