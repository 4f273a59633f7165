"""In-process rate limits: fixed windows per key, counted on the request's clock.

Two limits (api/deps.py applies them; docs/operations.md, "Rate limits"):

- **failed authentication per client address**: every request refused 401 (no,
  unknown, expired or revoked credential) counts; past `auth_failures` in a window
  the refusal is 429 instead of 401 until the window ends. A valid credential from
  the same address is still served: tokens carry 256 random bits, so guessing is
  not the threat this limit answers; a misbehaving client is (and an address
  shared by an office must not let one bad client lock its colleagues out).
- **requests per principal** (the authenticated user, whatever token or sign-on
  session it uses): past `requests` in a window, 429 until the window ends.

A window starts with a key's first hit and lasts `window_seconds`; a client can
therefore send up to twice the limit across a window boundary. Time is the
request's clock (`now`, injected in tests), so a test moves it instead of sleeping;
a clock that goes back starts a new window.

The counters live in this process only (with N server workers a client gets up to
N times the limit; a reverse proxy's limit is the production-grade complement),
are bounded (`max_keys` per limit, expired windows dropped first, then the
oldest), and are touched only from the event loop (async dependencies and
middleware), one dict lookup per hit, so they need no lock.

The log line when a key first goes over carries the limit, and the principal id
(in the log context) or a pseudonym of the client address (a keyed hash, the key
random per process): never a token or an address.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
import math
import secrets
import uuid
from collections.abc import Hashable
from dataclasses import dataclass, field
from datetime import datetime

from workflow.core.errors import RateLimited

log = logging.getLogger("casereview.rate_limit")
IPV6_PREFIX = 64  # one IPv6 subscriber holds a /64: count it as one address


class Window:
    """Fixed-window counters of one limit: `max_hits` per `seconds` per key (0: off)."""

    def __init__(self, max_hits: int, seconds: float, max_keys: int = 100_000) -> None:
        self.max_hits = max_hits
        self.seconds = seconds
        self.max_keys = max_keys
        self._counts: dict[Hashable, list[float]] = {}  # key -> [window start, hits]

    @property
    def enabled(self) -> bool:
        return self.max_hits > 0

    def __len__(self) -> int:
        return len(self._counts)

    def hit(self, key: Hashable, at: float) -> float | None:
        """Count a hit at `at` (epoch seconds). None: within the limit; else the seconds
        until the key's window ends (negative never). Off: always None, nothing kept."""
        if self.max_hits <= 0:
            return None
        counted = self._counts.get(key)
        if counted is None or not counted[0] <= at < counted[0] + self.seconds:
            if counted is None and len(self._counts) >= self.max_keys:
                self._make_room(at)
            self._counts[key] = [at, 1]
            return None
        counted[1] += 1
        if counted[1] <= self.max_hits:
            return None
        return counted[0] + self.seconds - at

    def over_by(self, key: Hashable) -> int:
        """Hits past the limit in the key's current window (1: the first refusal)."""
        counted = self._counts.get(key)
        return 0 if counted is None else max(0, int(counted[1]) - self.max_hits)

    def _make_room(self, at: float) -> None:
        for key in [k for k, (start, _) in self._counts.items() if at >= start + self.seconds]:
            del self._counts[key]
        while len(self._counts) >= self.max_keys:
            del self._counts[next(iter(self._counts))]  # the oldest key


@dataclass
class RateLimits:
    """The application's two limits; both off unless configured (api/main.py)."""

    auth_failures: int = 0
    requests: int = 0
    window_seconds: float = 60.0
    _failures: Window = field(init=False, repr=False)
    _requests: Window = field(init=False, repr=False)
    _pseudonym_key: bytes = field(
        init=False, repr=False, default_factory=lambda: secrets.token_bytes(16)
    )

    def __post_init__(self) -> None:
        self._failures = Window(self.auth_failures, self.window_seconds)
        self._requests = Window(self.requests, self.window_seconds)

    def failed_authentication(self, client_host: str, now: datetime) -> None:
        """Count a refused credential from `client_host`; raise RateLimited past the limit."""
        if not self._failures.enabled:
            return
        key = client_key(client_host)
        wait = self._failures.hit(key, now.timestamp())
        if wait is None:
            return
        retry = retry_after(wait)
        if self._failures.over_by(key) == 1:
            log.warning(
                "rate limit reached: failed authentication",
                extra={"fields": {"limit": "auth_failures", "client": self.pseudonym(key)}},
            )
        raise RateLimited(
            f"too many failed authentications from your address: more than "
            f"{self.auth_failures} in {self.window_seconds:g} seconds; retry after {retry} "
            f"seconds with a valid credential",
            retry,
        )

    def allows(self, principal_id: uuid.UUID, now: datetime) -> bool:
        """Count a request of `principal_id`; False past the limit (nothing raised: the
        polling fast path then leaves the request to the route, which refuses it)."""
        if self.requests <= 0:
            return True
        return self._requests.hit(principal_id, now.timestamp()) is None

    def request(self, principal_id: uuid.UUID, now: datetime) -> None:
        """Count a request of `principal_id`; raise RateLimited past the limit."""
        if self.requests <= 0:
            return
        wait = self._requests.hit(principal_id, now.timestamp())
        if wait is None:
            return
        retry = retry_after(wait)
        if self._requests.over_by(principal_id) == 1:
            log.warning(
                "rate limit reached: requests per user", extra={"fields": {"limit": "requests"}}
            )
        raise RateLimited(
            f"too many requests for your account: more than {self.requests} in "
            f"{self.window_seconds:g} seconds; retry after {retry} seconds",
            retry,
        )

    def pseudonym(self, key: str) -> str:
        """A stable-per-process stand-in for a client address, for logs."""
        digest = hmac.new(self._pseudonym_key, key.encode(), hashlib.sha256).hexdigest()
        return f"client-{digest[:12]}"


def client_key(host: str) -> str:
    """The counted address: an IPv4 address, an IPv6 /64, or the host as given."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    if address.version == 6:
        return str(ipaddress.ip_network(f"{address}/{IPV6_PREFIX}", strict=False))
    return str(address)


def retry_after(wait: float) -> int:
    """Whole seconds for `Retry-After` (RFC 9110 10.2.3): rounded up, at least 1."""
    return max(1, math.ceil(wait))
