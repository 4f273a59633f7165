"""Request dependencies: the application's services, the caller, the clock, If-Match.

There is no request-scoped Session: a route hands a function to `Services.write`
(or `read`), which runs it in a worker thread inside one transaction and commits
*before* the route returns, so a 2xx is never sent for an uncommitted write and
no pooled connection is held while a response is written.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from api.observability import principal_id_var
from api.replays import IdempotencyRequest
from api.summary_cache import SummaryCache
from workflow.access import accounts
from workflow.access.oidc import InvalidToken, KeySetUnavailable, OidcVerifier, looks_like_jwt
from workflow.access.passwords import LockoutPolicy
from workflow.access.principal import Principal
from workflow.access.rate_limit import RateLimits
from workflow.access.sessions import SessionPolicy
from workflow.access.token_cache import TokenCache, generation
from workflow.audit.verification import Anchor
from workflow.context import Context
from workflow.core.calendars import CalendarBook
from workflow.core.errors import NotAuthenticated, PreconditionRequired, SignOnUnavailable
from workflow.core.nations import NationBook
from workflow.core.rulebook import RulebookRegistry
from workflow.core.themes import Taxonomy
from workflow.documents.storage import Storage
from workflow.reads import etags
from workflow.reads.attention import AttentionPolicy
from workflow.storage.database import Database, DatabaseUnavailable
from workflow.storage.loop_reader import PgLoopReader

T = TypeVar("T")
_bearer = HTTPBearer(auto_error=False, description="An API token or a single sign-on JWT.")


@dataclass(frozen=True)
class Services:
    """What the lifespan builds once per process (api/main.py)."""

    database: Database
    rulebooks: RulebookRegistry
    calendars: CalendarBook = field(default_factory=CalendarBook)
    oidc: OidcVerifier | None = None
    rag_amber_working_days: int = 3
    taxonomy: Taxonomy = field(default_factory=Taxonomy)
    storage: Storage | None = None  # document content (api/main.py: LocalDiskStorage)
    tokens: TokenCache = field(default_factory=TokenCache)  # CASEREVIEW_AUTH_CACHE_SECONDS
    loop_reader: LoopReader | None = None  # SQLite: `peek` on the event loop (api/main.py)
    summaries: SummaryCache = field(default_factory=SummaryCache)  # api/summary_cache.py
    limits: RateLimits = field(default_factory=RateLimits)  # off unless configured
    pg_reader: PgLoopReader | None = None  # PostgreSQL: `stamp` on the event loop (api/main.py)
    sessions: SessionPolicy = field(default_factory=SessionPolicy)  # the web's timeouts
    lockout: LockoutPolicy = field(default_factory=LockoutPolicy)  # failed password sign-ins
    cookie_secure: bool = False  # CASEREVIEW_COOKIE_SECURE=always; else by the scheme
    audit_anchor: Anchor | None = None  # signed audit checkpoints, if configured (docs/audit.md)
    nations: NationBook = field(default_factory=NationBook.bundled)  # config/nations.yaml
    attention: AttentionPolicy = field(default_factory=AttentionPolicy)  # the home page

    async def write(self, fn: Callable[[Session], T]) -> T:
        return await run_in_threadpool(self.database.write, fn)

    async def read(self, fn: Callable[[Session], T]) -> T:
        return await run_in_threadpool(self.database.read, fn)

    async def call(self, fn: Callable[..., T], *args: object, **kwargs: object) -> T:
        return await run_in_threadpool(fn, *args, **kwargs)

    async def peek(self, fn: Callable[[Connection], T]) -> T:
        """A short read on a Core connection, no ORM Session (the If-None-Match checks).

        On SQLite it runs on the event loop, without a thread hop (conventions.md: async
        routes may call short synchronous SQLite work directly; WAL readers never wait
        for writers) on one connection kept for the loop, so it never waits on the pool.
        Elsewhere it runs in a worker thread on a pooled connection."""
        if self.loop_reader is not None and self.database.is_sqlite:
            return self.loop_reader.run(fn)
        return await run_in_threadpool(_pooled_read, self.database, fn)

    async def stamp(self, principal: Principal, case_id: uuid.UUID) -> etags.CaseStamp:
        """`etags.case_stamp`: a case's version as this caller sees it (CaseNotFound if
        the caller may not see it), read from the database every time. On PostgreSQL
        with a `pg_reader`, one round trip on the event loop (workflow/storage/loop_reader.py);
        otherwise through `peek`."""
        if self.pg_reader is not None:
            row = await self.pg_reader.one(etags.STAMP, {"case_id": case_id})
            return etags.stamp_from_row(principal, case_id, row)
        return await self.peek(lambda c: etags.case_stamp(c, principal, case_id))


def _pooled_read(database: Database, fn: Callable[[Connection], T]) -> T:
    try:
        with database.engine.connect() as conn:
            return fn(conn)
    except DBAPIError as exc:
        raise _unavailable(exc) from exc
    except PoolTimeout as exc:
        raise DatabaseUnavailable("the database is busy; try again shortly") from exc


class LoopReader:
    """The SQLite connection of the event loop's reads: checked out once, each read in
    its own short transaction (so it never holds back a WAL checkpoint). Only the event
    loop's thread uses it, one read at a time; a failed connection is replaced."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine
        self.conn: Connection | None = None

    def run(self, fn: Callable[[Connection], T]) -> T:
        try:
            if self.conn is None or self.conn.closed or self.conn.invalidated:
                self.conn = self.engine.connect()  # SQLite pools keep a slot for it
            with self.conn.begin():
                return fn(self.conn)
        except DBAPIError as exc:
            self.close()
            raise _unavailable(exc) from exc

    def close(self) -> None:
        if self.conn is not None:
            conn, self.conn = self.conn, None
            conn.close()


def _unavailable(exc: DBAPIError) -> Exception:
    """What Database.read makes of a driver error: unavailable (503), or unchanged."""
    if exc.connection_invalidated or isinstance(exc, OperationalError):
        return DatabaseUnavailable("the database is unavailable or busy; try again shortly")
    return exc


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_now() -> datetime:
    """The request's clock; tests override this dependency instead of sleeping. The
    dependencies here are `async def` although they never await: FastAPI runs a plain
    `def` dependency in a worker thread, a thread hop per dependency per request."""
    return datetime.now(UTC)


ServicesDep = Annotated[Services, Depends(get_services)]
Now = Annotated[datetime, Depends(get_now)]


async def get_principal(
    request: Request,
    services: ServicesDep,
    now: Now,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The authenticated caller: an API token, or a JWT from the configured issuer.

    Rate limits (workflow/access/rate_limit.py): a refused credential counts against
    the client's address (429 instead of 401 past the limit), an accepted one against
    the caller (429 past the limit)."""
    try:
        principal = await _authenticate(services, now, credentials)
    except NotAuthenticated:
        services.limits.failed_authentication(client_host(request), now)
        raise
    principal_id_var.set(str(principal.user_id))
    services.limits.request(principal.user_id, now)
    return principal


async def _authenticate(
    services: Services, now: datetime, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if credentials is None or not credentials.credentials:
        raise NotAuthenticated("send Authorization: Bearer <token>")
    raw = credentials.credentials.strip()
    if services.oidc is not None and looks_like_jwt(raw):
        oidc = services.oidc
        try:
            identity = oidc.identity(oidc.verify(raw, now=now))
        except KeySetUnavailable:
            raise SignOnUnavailable("the sign-on keys cannot be fetched; try again") from None
        except InvalidToken as exc:
            raise NotAuthenticated(f"single sign-on token refused: {exc}") from None
        principal = await services.read(lambda s: accounts.authenticate_identity(s, identity))
    else:
        principal = await _token_principal(services, raw, now)
    return principal


async def _token_principal(services: Services, raw: str, now: datetime) -> Principal:
    """An API token's Principal: from the short-lived cache (workflow/access/
    token_cache.py: revocation elsewhere can lag its TTL), else three queries."""
    key = services.tokens.key(raw)
    cached = services.tokens.get(key, now)
    if cached is not None:
        return cached
    seen = generation()  # read before the lookup: a change committed meanwhile wins
    principal, expires_at = await services.read(
        lambda s: accounts.authenticate_token_hash(s, key, now)
    )
    services.tokens.put(key, principal, expires_at, seen)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


def client_host(request: Request) -> str:
    """The client's address: the TCP peer's, or the X-Forwarded-For of a trusted proxy
    (`casereview serve --forwarded-allow-ips`; nobody's by default)."""
    return request.client.host if request.client else "-"


def client_of(request: Request) -> str:
    host = request.client.host if request.client else "-"
    agent = request.headers.get("user-agent", "-")[:160]
    return f"{host} {agent}"


async def get_context(
    request: Request, services: ServicesDep, principal: CurrentPrincipal, now: Now
) -> Context:
    return Context(
        services.rulebooks,
        principal,
        now,
        client_of(request),
        services.calendars,
        services.rag_amber_working_days,
    )


Ctx = Annotated[Context, Depends(get_context)]


async def get_expected_version(
    if_match: Annotated[
        str | None,
        Header(
            description='The case version you read, from its ETag: "3", or the ETag of a GET '
            'of the case such as "3.20260115.p" (its leading number is the version). Required.'
        ),
    ] = None,
) -> int:
    if if_match is None:
        raise PreconditionRequired(
            "send If-Match with the case's ETag (its version) so that a concurrent change "
            "is detected instead of overwritten"
        )
    # "3", 3, or a GET's tag "3.20260115.p" / "3.p" / "3.r<hash>": the leading integer.
    found = re.match(r'^\s*(?:"(\d{1,9})(?:\.[0-9A-Za-z.]{1,40})?"|(\d{1,9}))\s*$', if_match)
    if not found:
        raise PreconditionRequired(
            f'If-Match must be a case version such as "3" or a case ETag such as '
            f'"3.20260115.p", got {if_match!r}'
        )
    return int(found.group(1) or found.group(2))


ExpectedVersion = Annotated[int, Depends(get_expected_version)]


async def get_idempotency(
    request: Request,
    idempotency_key: Annotated[
        str | None,
        Header(
            min_length=8,
            max_length=128,
            pattern=r"^[A-Za-z0-9_.:-]+$",
            description="Makes the request safe to retry: a replay within 24 hours returns the "
            "first response without a second effect.",
        ),
    ] = None,
) -> IdempotencyRequest | None:
    if idempotency_key is None:
        return None
    return IdempotencyRequest.of(
        idempotency_key, request.method, request.url.path, await request.body()
    )


Idempotency = Annotated[IdempotencyRequest | None, Depends(get_idempotency)]
