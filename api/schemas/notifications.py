"""Request and response models of subscriptions and deliveries (no personal data)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator

from workflow.core.inputs import Input
from workflow.notifications.deliveries import DeliveryView
from workflow.notifications.subscriptions import ROLE_MEMBERS
from workflow.notifications.targets import MAX_TARGET_LENGTH
from workflow.storage.models import Subscription

Topic = Literal["case.stage_changed", "deadline.approaching", "deadline.missed"]
DeliveryStatus = Literal["pending", "in_flight", "delivered", "retrying", "dead"]


class SubscriptionIn(Input):
    partnership: str = Field(min_length=1, max_length=64, description="The partnership's code.")
    channel: Literal["webhook", "email"]
    target: str | None = Field(
        default=None,
        min_length=3,
        max_length=MAX_TARGET_LENGTH,
        description="The webhook URL (http or https; no user information, fragment, "
        "spaces or unencoded non-ASCII), or one e-mail address. Omit it for an e-mail "
        "subscription with a `role`: each message then goes to every active member of the "
        "partnership holding that role who has an e-mail address.",
    )
    topics: list[Topic] = Field(
        default_factory=list, max_length=3, description="What to send; empty: every topic."
    )
    role: str | None = Field(
        default=None,
        max_length=32,
        description="The role this subscription serves; with an e-mail channel and no "
        "target, whose members it writes to.",
    )

    # Overrides Input's check of the same name: `target` is left to the domain
    # (workflow/notifications/targets.py and inputs.is_one_email_address), which refuses
    # control and bidirectional characters there too and says why, naming the field;
    # every other field keeps the base rule.
    @field_validator("*", mode="before")
    @classmethod
    def _character_policy(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name == "target":
            return value
        base: Any = super()  # the base's validator, a plain classmethod once built
        return base._character_policy(value, info)


class SubscriptionOut(BaseModel):
    id: uuid.UUID
    partnership: str
    channel: str
    target: str | None = Field(description="null: the members holding `role`.")
    topics: list[str]
    role: str | None
    active: bool
    created_by: str
    created_at: datetime
    deactivated_at: datetime | None

    @classmethod
    def of(cls, sub: Subscription, partnership: str) -> SubscriptionOut:
        return cls(
            id=sub.id,
            partnership=partnership,
            channel=sub.channel,
            target=None if sub.target == ROLE_MEMBERS else sub.target,
            topics=list(sub.topics),
            role=sub.role,
            active=sub.active,
            created_by=sub.created_by,
            created_at=sub.created_at,
            deactivated_at=sub.deactivated_at,
        )


class SubscriptionCreatedOut(SubscriptionOut):
    secret: str | None = Field(
        description="Webhooks: the HMAC-SHA256 key of the X-Casereview-Signature header. "
        "Shown once."
    )


class SubscriptionList(BaseModel):
    items: list[SubscriptionOut]
    next_cursor: str | None = None


class DeliveryOut(BaseModel):
    id: uuid.UUID
    message_id: uuid.UUID = Field(description="The idempotency id the payload carries.")
    subscription_id: uuid.UUID
    topic: str
    case_id: uuid.UUID | None
    status: DeliveryStatus
    attempts: int
    next_attempt_at: datetime
    lease_until: datetime | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None

    @classmethod
    def of(cls, view: DeliveryView) -> DeliveryOut:
        d = view.delivery
        return cls(
            id=d.id,
            message_id=d.message_id,
            subscription_id=d.subscription_id,
            topic=view.topic,
            case_id=view.case_id,
            status=d.status,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            lease_until=d.lease_until,
            last_error=d.last_error,
            created_at=d.created_at,
            delivered_at=d.delivered_at,
        )


class DeliveryList(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None
