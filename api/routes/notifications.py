"""Notification subscriptions and their deliveries (dead letters visible and retryable)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from api.deps import Ctx, ServicesDep
from api.errors import responses
from api.schemas.notifications import (
    DeliveryList,
    DeliveryOut,
    DeliveryStatus,
    SubscriptionCreatedOut,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)
from workflow.notifications import deliveries, subscriptions

router = APIRouter(prefix="/api/v1", tags=["notifications"])


@router.post(
    "/subscriptions",
    status_code=201,
    response_model=SubscriptionCreatedOut,
    responses=responses(401, 403, 413, 422, 503),
)
async def create_subscription(
    body: SubscriptionIn, services: ServicesDep, ctx: Ctx
) -> SubscriptionCreatedOut:
    """Send a partnership's notifications to a webhook or an e-mail address
    (`notifications.manage`). A webhook's signing secret is shown once, here."""
    new = subscriptions.NewSubscription(
        body.partnership, body.channel, body.target, tuple(body.topics), body.role
    )

    def run(session: Session) -> SubscriptionCreatedOut:
        made = subscriptions.create(session, ctx, new)
        out = SubscriptionOut.of(made.subscription, made.partnership)
        return SubscriptionCreatedOut(**out.model_dump(), secret=made.secret)

    return await services.write(run)


@router.get("/subscriptions", response_model=SubscriptionList, responses=responses(401, 503))
async def list_subscriptions(
    services: ServicesDep,
    ctx: Ctx,
    partnership: Annotated[str | None, Query(max_length=64)] = None,
) -> SubscriptionList:
    """The subscriptions of your partnerships where you hold `notifications.read`."""

    def run(session: Session) -> SubscriptionList:
        rows = subscriptions.list_for(session, ctx, partnership)
        return SubscriptionList(items=[SubscriptionOut.of(s, code) for s, code in rows])

    return await services.read(run)


@router.get(
    "/subscriptions/{subscription_id}",
    response_model=SubscriptionOut,
    responses=responses(401, 404, 503),
)
async def get_subscription(
    subscription_id: uuid.UUID, services: ServicesDep, ctx: Ctx
) -> SubscriptionOut:
    """One subscription (never its secret)."""
    return await services.read(
        lambda s: SubscriptionOut.of(*subscriptions.get(s, ctx, subscription_id))
    )


@router.post(
    "/subscriptions/{subscription_id}/deactivation",
    response_model=SubscriptionOut,
    responses=responses(401, 403, 404, 503),
)
async def deactivate_subscription(
    subscription_id: uuid.UUID, services: ServicesDep, ctx: Ctx
) -> SubscriptionOut:
    """Stop a subscription; its queued deliveries end as dead. Again: no change."""
    return await services.write(
        lambda s: SubscriptionOut.of(*subscriptions.deactivate(s, ctx, subscription_id))
    )


@router.get("/deliveries", response_model=DeliveryList, responses=responses(400, 401, 422, 503))
async def list_deliveries(
    services: ServicesDep,
    ctx: Ctx,
    status: DeliveryStatus | None = None,
    subscription_id: uuid.UUID | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DeliveryList:
    """Deliveries of your partnerships, newest first; `status=dead` lists the dead letters."""

    def run(session: Session) -> DeliveryList:
        page = deliveries.list_deliveries(
            session,
            ctx,
            status=status,
            subscription_id=subscription_id,
            limit=limit,
            cursor=cursor,
        )
        return DeliveryList(
            items=[DeliveryOut.of(v) for v in page.items], next_cursor=page.next_cursor
        )

    return await services.read(run)


@router.get(
    "/deliveries/{delivery_id}", response_model=DeliveryOut, responses=responses(401, 404, 503)
)
async def get_delivery(delivery_id: uuid.UUID, services: ServicesDep, ctx: Ctx) -> DeliveryOut:
    return await services.read(
        lambda s: DeliveryOut.of(deliveries.get_delivery(s, ctx, delivery_id))
    )


@router.post(
    "/deliveries/{delivery_id}/retry",
    response_model=DeliveryOut,
    responses=responses(401, 403, 404, 409, 503),
)
async def retry_delivery(delivery_id: uuid.UUID, services: ServicesDep, ctx: Ctx) -> DeliveryOut:
    """Put a dead delivery back in the queue (pending, due now, attempts reset);
    409 for a delivery that is not dead."""
    return await services.write(lambda s: DeliveryOut.of(deliveries.retry(s, ctx, delivery_id)))
