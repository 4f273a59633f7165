"""Request dependencies: the application's services, the actor, the clock, If-Match.

There is no request-scoped Session: a route hands a function to `Db.write`,
which runs it in a worker thread inside one transaction and commits *before*
the route returns, so a 2xx is never sent for an uncommitted write and no
pooled connection is held while the response is written.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from workflow.database import Database
from workflow.errors import PreconditionRequired
from workflow.rulebook import RulebookRegistry

T = TypeVar("T")
_ETAG = re.compile(r'^\s*"(\d{1,9})"\s*$|^\s*(\d{1,9})\s*$')


@dataclass(frozen=True)
class Services:
    """What the lifespan builds once per process (api/main.py)."""

    database: Database
    rulebooks: RulebookRegistry

    async def write(self, fn: Callable[[Session], T]) -> T:
        return await run_in_threadpool(self.database.write, fn)

    async def read(self, fn: Callable[[Session], T]) -> T:
        return await run_in_threadpool(self.database.read, fn)


def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def get_now() -> datetime:
    """The request's clock; tests override this dependency instead of sleeping."""
    return datetime.now(UTC)


def get_actor(
    x_actor: Annotated[
        str,
        Header(
            min_length=1,
            max_length=128,
            pattern=r"^[\w .@'-]+$",
            description="Who is acting (until authentication lands).",
        ),
    ],
) -> str:
    return x_actor.strip()


def get_expected_version(
    if_match: Annotated[
        str | None, Header(description='The case version you read, from its ETag, e.g. "3".')
    ] = None,
) -> int:
    if if_match is None:
        raise PreconditionRequired(
            "send If-Match with the case's ETag (its version) so that a concurrent change "
            "is detected instead of overwritten"
        )
    found = _ETAG.match(if_match)
    if not found:
        raise PreconditionRequired(f'If-Match must be a case version such as "3", got {if_match!r}')
    return int(found.group(1) or found.group(2))


ServicesDep = Annotated[Services, Depends(get_services)]
Now = Annotated[datetime, Depends(get_now)]
Actor = Annotated[str, Depends(get_actor)]
ExpectedVersion = Annotated[int, Depends(get_expected_version)]
