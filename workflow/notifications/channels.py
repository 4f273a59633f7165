"""How a delivery leaves the system: a small protocol each channel implements."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol


class DeliveryFailed(Exception):
    """The channel could not deliver. `reason` is short and holds no personal data
    (it is stored as the delivery's last_error and shown through the API)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason[:300]


@dataclass(frozen=True)
class Outgoing:
    """One delivery attempt: the message's payload (with its idempotency id) and where
    it goes."""

    delivery_id: uuid.UUID
    message_id: uuid.UUID
    topic: str
    payload: dict[str, Any]
    target: str
    secret: str | None
    attempt: int


class Channel(Protocol):
    def send(self, item: Outgoing, now: datetime) -> None:
        """Deliver `item` or raise DeliveryFailed. Called outside any transaction."""
        ...
