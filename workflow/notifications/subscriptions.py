"""Subscriptions of a partnership: who is told what, and where.

Reading needs `notifications.read`, changing `notifications.manage`, both held with
partnership scope in the subscription's partnership; a subscription of a
partnership where the caller holds neither is answered as not found. A webhook's
target is parsed in full (workflow/notifications/targets.py), and its HMAC secret is
generated here and returned once, at creation. Every change is in the
partnership's audit trail. Services flush, never commit.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.access.permissions import Perm, Role, refusal
from workflow.context import Context
from workflow.core.errors import CaseNotFound, Forbidden, InvalidFacts
from workflow.core.inputs import is_one_email_address
from workflow.notifications.outbox import TOPICS
from workflow.notifications.targets import InvalidTarget, check_text, check_webhook_target
from workflow.storage.models import Partnership, Subscription

CHANNELS = ("webhook", "email")
# the stored target of an e-mail subscription that writes to the members holding its
# role (resolved at each delivery: workflow/notifications/recipients.py)
ROLE_MEMBERS = ""
SECRET_PREFIX = "whsec_"  # noqa: S105 - a prefix, not a secret


class SubscriptionNotFound(CaseNotFound):
    """No such subscription, or one of a partnership the caller may not read: 404."""


@dataclass(frozen=True)
class NewSubscription:
    partnership: str
    channel: str
    target: str | None  # None: e-mail to every member holding `role` (ROLE_MEMBERS)
    topics: tuple[str, ...] = ()
    role: str | None = None


@dataclass(frozen=True)
class Created:
    subscription: Subscription
    partnership: str
    secret: str | None  # webhooks: shown once


def partnerships_where(ctx: Context, perm: Perm) -> dict[uuid.UUID, str]:
    """id -> code of the partnerships where the caller holds `perm` (partnership scope)."""
    allowed = ctx.principal.partnerships_with(perm)
    return {
        g.partnership_id: g.partnership_code
        for g in ctx.principal.grants
        if g.partnership_id in allowed
    }


def _check(new: NewSubscription) -> None:
    if new.channel not in CHANNELS:
        raise InvalidFacts(f"channel must be one of {', '.join(CHANNELS)}", "channel")
    unknown = [t for t in new.topics if t not in TOPICS]
    if unknown:
        raise InvalidFacts(f"unknown topic {unknown[0]!r}; known: {', '.join(TOPICS)}", "topics")
    if new.role is not None and new.role not in {r.value for r in Role}:
        raise InvalidFacts(f"unknown role {new.role!r}", "role")
    if new.target is None:
        if new.channel != "email" or new.role is None:
            raise InvalidFacts(
                "target is required, except for an e-mail subscription with a role "
                "(which writes to every member holding that role)",
                "target",
            )
        return
    try:
        check_text(new.target)
        if new.channel == "webhook":
            check_webhook_target(new.target)
    except InvalidTarget as exc:
        raise InvalidFacts(exc.reason, "target") from None
    if new.channel == "email" and not is_one_email_address(new.target):
        raise InvalidFacts("an e-mail target must be one address", "target")


def create(session: Session, ctx: Context, new: NewSubscription) -> Created:
    grant = next((g for g in ctx.principal.grants if g.partnership_code == new.partnership), None)
    if grant is None:
        raise InvalidFacts(
            f"you are not a member of partnership {new.partnership!r}", "partnership"
        )
    if grant.partnership_id not in partnerships_where(ctx, Perm.NOTIFICATIONS_MANAGE):
        raise Forbidden(refusal(Perm.NOTIFICATIONS_MANAGE, new.partnership))
    _check(new)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32) if new.channel == "webhook" else None
    sub = Subscription(
        id=uuid.uuid4(),
        partnership_id=grant.partnership_id,
        role=new.role,
        channel=new.channel,
        target=new.target if new.target is not None else ROLE_MEMBERS,
        secret=secret,
        topics=list(dict.fromkeys(new.topics)),
        active=True,
        created_by=ctx.actor,
        created_at=ctx.now,
    )
    session.add(sub)
    session.flush()
    audit_change(
        session, ctx, new.partnership, "create_subscription", {"subscription_id": str(sub.id)}
    )
    return Created(sub, new.partnership, secret)


def list_for(
    session: Session, ctx: Context, partnership: str | None
) -> list[tuple[Subscription, str]]:
    """The subscriptions the caller may read (optionally of one partnership), oldest first."""
    readable = partnerships_where(ctx, Perm.NOTIFICATIONS_READ)
    ids = [p for p, code in readable.items() if partnership in (None, code)]
    rows = session.execute(
        select(Subscription, Partnership.code)
        .join(Partnership, Partnership.id == Subscription.partnership_id)
        .where(Subscription.partnership_id.in_(ids))
        .order_by(Subscription.created_at, Subscription.id)
    )
    return [(s, code) for s, code in rows]


def get(session: Session, ctx: Context, sub_id: uuid.UUID) -> tuple[Subscription, str]:
    sub = session.get(Subscription, sub_id)
    readable = partnerships_where(ctx, Perm.NOTIFICATIONS_READ)
    if sub is None or sub.partnership_id not in readable:
        raise SubscriptionNotFound(f"no subscription {sub_id}")
    return sub, readable[sub.partnership_id]


def deactivate(session: Session, ctx: Context, sub_id: uuid.UUID) -> tuple[Subscription, str]:
    """Stop a subscription: no new deliveries; queued ones end as dead. Again: no change."""
    sub, code = get(session, ctx, sub_id)
    if sub.partnership_id not in partnerships_where(ctx, Perm.NOTIFICATIONS_MANAGE):
        raise Forbidden(refusal(Perm.NOTIFICATIONS_MANAGE, code))
    if sub.active:
        sub.active = False
        sub.deactivated_at = ctx.now
        session.flush()
        audit_change(
            session, ctx, code, "deactivate_subscription", {"subscription_id": str(sub.id)}
        )
    return sub, code


def audit_change(
    session: Session, ctx: Context, chain: str, action: str, detail: dict[str, str]
) -> None:
    """An audit record of a change to the partnership's notifications (ids only)."""
    ctx.audit(session, action, chain=chain, detail=detail)
