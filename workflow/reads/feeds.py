"""Calendar (.ics) feeds of a partnership's deadlines, behind a revocable feed token.

Calendar clients cannot send an Authorization header, so the token travels in the
URL. It is 256 bits of randomness shown once and stored only as its SHA-256 hash
(like API tokens), grants that one feed and nothing else, and stops working when it
is revoked, when its owner is disabled, or when the owner no longer holds
`feed.create` and `case.list` in the partnership: each fetch re-checks all of it,
and every failure looks the same (not found). No personal data: a deadline's title
with the case's local reference (or the first 8 characters of its id), any control
or bidirectional character stored before the input rule written as U+FFFD.
Services flush, never commit.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from icalendar import Calendar, Event
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.access import accounts
from workflow.access.permissions import Perm, refusal
from workflow.access.principal import Principal
from workflow.context import LOCAL_ZONE, Context
from workflow.core.calendar import add_months
from workflow.core.errors import CaseNotFound, Conflict, Forbidden, InvalidFacts
from workflow.core.inputs import neutralise
from workflow.core.rulebook import RulebookRegistry
from workflow.storage.models import Case, CaseDeadline, FeedToken, Partnership, User

FEED_PREFIX = "crf_"
HORIZON_MONTHS = 12
UID_DOMAIN = "casereview"


class FeedNotFound(CaseNotFound):
    """No such feed (unknown, revoked, someone else's, or its owner lost access): 404."""


@dataclass(frozen=True)
class IssuedFeed:
    feed: FeedToken
    partnership: str
    secret: str  # shown once, never stored


def _may_feed(principal: Principal) -> set[uuid.UUID]:
    """Partnerships whose feed the caller may have: feed.create and listing its cases
    (partnership scope: an assigned-only or national role does not qualify)."""
    return principal.partnerships_with(Perm.FEED_CREATE) & principal.partnerships_with(
        Perm.CASE_LIST
    )


def create_feed(session: Session, ctx: Context, partnership: str, label: str) -> IssuedFeed:
    grant = next((g for g in ctx.principal.grants if g.partnership_code == partnership), None)
    if grant is None:
        raise InvalidFacts(f"you are not a member of partnership {partnership!r}", "partnership")
    if grant.partnership_id not in _may_feed(ctx.principal):
        raise Forbidden(refusal(Perm.FEED_CREATE, partnership))
    secret = FEED_PREFIX + secrets.token_urlsafe(32)
    feed = FeedToken(
        id=uuid.uuid4(),
        user_id=ctx.principal.user_id,
        partnership_id=grant.partnership_id,
        token_hash=accounts.hash_token(secret),
        label=label,
        created_at=ctx.now,
    )
    session.add(feed)
    try:
        session.flush()
    except IntegrityError:  # pragma: no cover - a 256-bit collision
        raise Conflict("token collision; try again") from None
    _audit(session, ctx, partnership, "create_feed_token", feed.id)
    return IssuedFeed(feed, partnership, secret)


def list_feeds(session: Session, ctx: Context) -> list[tuple[FeedToken, str]]:
    """The caller's feeds (revoked ones too), oldest first, with the partnership code."""
    rows = session.execute(
        select(FeedToken, Partnership.code)
        .join(Partnership, Partnership.id == FeedToken.partnership_id)
        .where(FeedToken.user_id == ctx.principal.user_id)
        .order_by(FeedToken.created_at, FeedToken.id)
    )
    return [(feed, code) for feed, code in rows]


def revoke_feed(session: Session, ctx: Context, feed_id: uuid.UUID) -> tuple[FeedToken, str]:
    """Revoke one of the caller's feeds (again: no change)."""
    found = session.execute(
        select(FeedToken, Partnership.code)
        .join(Partnership, Partnership.id == FeedToken.partnership_id)
        .where(FeedToken.id == feed_id, FeedToken.user_id == ctx.principal.user_id)
        .with_for_update(of=FeedToken)
    ).first()
    if found is None:
        raise FeedNotFound(f"no feed {feed_id}")
    feed, code = found
    if feed.revoked_at is None:
        feed.revoked_at = ctx.now
        _audit(session, ctx, code, "revoke_feed_token", feed.id)
        session.flush()
    return feed, code


@dataclass(frozen=True)
class FeedEvent:
    uid: str
    due_date: date
    summary: str
    description: str


@dataclass(frozen=True)
class Feed:
    partnership: str
    name: str
    events: list[FeedEvent]


def feed_for_token(session: Session, rulebooks: RulebookRegistry, raw: str, now: datetime) -> Feed:
    """The feed a token grants: every pending deadline of the partnership's cases due
    up to 12 months from today (overdue ones included, until they are met)."""
    found = session.execute(
        select(FeedToken, User, Partnership)
        .join(User, User.id == FeedToken.user_id)
        .join(Partnership, Partnership.id == FeedToken.partnership_id)
        .where(FeedToken.token_hash == accounts.hash_token(raw))
    ).first()
    if found is None:
        raise FeedNotFound("no such feed")
    feed, user, partnership = found
    if feed.revoked_at is not None or not user.is_active:
        raise FeedNotFound("no such feed")
    if partnership.id not in _may_feed(accounts.principal_for(session, user)):
        raise FeedNotFound("no such feed")
    today = now.astimezone(LOCAL_ZONE).date()
    rows = session.execute(
        select(CaseDeadline, Case)
        .join(Case, Case.id == CaseDeadline.case_id)
        .where(
            Case.partnership_id == partnership.id,
            CaseDeadline.state == "pending",
            CaseDeadline.due_date <= add_months(today, HORIZON_MONTHS),
        )
        .order_by(CaseDeadline.due_date, Case.id, CaseDeadline.name)
    )
    events = []
    for deadline, case in rows:
        rulebook = rulebooks.get(case.rulebook_id, case.rulebook_version)
        title = next((d.title for d in rulebook.deadlines if d.name == deadline.name), None)
        assert deadline.due_date is not None  # pending deadlines have a due date
        events.append(
            FeedEvent(
                uid=f"{case.id}-{deadline.name}@{UID_DOMAIN}",
                due_date=deadline.due_date,
                summary=f"{title or deadline.name} - {case_label(case)}",
                description=f"Deadline {deadline.name} of case {case.id} "
                f"(rulebook {case.rulebook_id} v{case.rulebook_version}).",
            )
        )
    return Feed(partnership.code, partnership.name, events)


def case_label(case: Case) -> str:
    return case.local_reference or f"case {str(case.id)[:8]}"


def render_ics(feed: Feed, now: datetime) -> bytes:
    """RFC 5545: one all-day VEVENT per deadline (DTSTART;VALUE=DATE, DTEND the next day)."""
    cal = Calendar()
    cal.add("prodid", "-//casereview//deadline feed//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", neutralise(f"{feed.name}: case review deadlines"))
    for e in feed.events:
        event = Event()
        event.add("uid", e.uid)
        event.add("dtstamp", now)
        event.add("dtstart", e.due_date)
        event.add("dtend", e.due_date + timedelta(days=1))
        event.add("summary", neutralise(e.summary))
        event.add("description", neutralise(e.description, multiline=True))
        event.add("transp", "TRANSPARENT")
        cal.add_component(event)
    return bytes(cal.to_ical())


def _audit(session: Session, ctx: Context, chain: str, action: str, feed_id: uuid.UUID) -> None:
    ctx.audit(session, action, chain=chain, detail={"feed_id": str(feed_id)})
