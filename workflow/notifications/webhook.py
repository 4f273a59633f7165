"""Webhooks: the payload as a JSON POST, signed with the subscription's secret.

Headers: `X-Casereview-Timestamp` (Unix seconds), `X-Casereview-Signature:
sha256=<hex HMAC-SHA256 of "<timestamp>." + body>`, `X-Casereview-Message-Id` and
`Idempotency-Key` (both the message's id, the same on every retry). Any 2xx is
success; anything else, a timeout, a network error or a target that is not a valid
URL (targets.py) is a failure to retry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from datetime import datetime

from workflow.notifications.channels import DeliveryFailed, Outgoing
from workflow.notifications.egress import AddressNotAllowed, EgressPolicy, handlers
from workflow.notifications.targets import InvalidTarget, check_webhook_target

SIGNATURE_HEADER = "X-Casereview-Signature"
TIMESTAMP_HEADER = "X-Casereview-Timestamp"
NOT_ALLOWED = "address not allowed: not public (CASEREVIEW_WEBHOOK_ALLOWED_NETWORKS)"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str) -> bool:
    """What a receiver does (constant-time comparison)."""
    return hmac.compare_digest(sign(secret, timestamp, body), signature)


def body_of(item: Outgoing) -> bytes:
    return json.dumps(item.payload, separators=(",", ":"), sort_keys=True).encode()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None  # a redirect is a failure, never a re-POST elsewhere


class WebhookChannel:
    def __init__(self, timeout_seconds: float, policy: EgressPolicy | None = None) -> None:
        self.timeout_seconds = timeout_seconds
        self._opener = urllib.request.build_opener(
            _NoRedirects, *handlers(policy or EgressPolicy())
        )

    def send(self, item: Outgoing, now: datetime) -> None:
        try:  # again here: a row written before creation parsed targets may hold anything
            check_webhook_target(item.target)
        except InvalidTarget as exc:
            raise DeliveryFailed(f"invalid target: {exc.reason}") from None
        body = body_of(item)
        timestamp = str(int(now.timestamp()))
        request = urllib.request.Request(  # noqa: S310 - scheme checked above
            item.target,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "User-Agent": "casereview-webhook/1",
                TIMESTAMP_HEADER: timestamp,
                SIGNATURE_HEADER: sign(item.secret or "", timestamp, body),
                "X-Casereview-Message-Id": str(item.message_id),
                "Idempotency-Key": str(item.message_id),
            },
        )
        try:
            with self._opener.open(request, timeout=self.timeout_seconds) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryFailed(f"HTTP {exc.code}") from None
        except TimeoutError:
            raise DeliveryFailed("timed out") from None
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            if isinstance(reason, AddressNotAllowed):
                raise DeliveryFailed(NOT_ALLOWED) from None
            raise DeliveryFailed(f"connection failed ({type(reason).__name__})") from None
        if not 200 <= status < 300:
            raise DeliveryFailed(f"HTTP {status}")
