"""The fixed-window counters behind the rate limits (workflow/access/rate_limit.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from workflow.access.rate_limit import RateLimits, Window, client_key, retry_after
from workflow.core.errors import RateLimited

T0 = datetime(2026, 1, 15, 9, 0, tzinfo=UTC)


def test_a_window_allows_its_hits_then_says_how_long_to_wait() -> None:
    window = Window(max_hits=2, seconds=60)
    assert window.hit("a", 100.0) is None
    assert window.hit("a", 110.0) is None
    assert window.hit("a", 130.5) == pytest.approx(29.5)
    assert window.hit("b", 130.5) is None  # keys are counted apart
    assert window.hit("a", 160.0) is None  # the window ended: a new one starts


def test_a_clock_that_goes_back_starts_a_new_window() -> None:
    window = Window(max_hits=1, seconds=60)
    window.hit("a", 100.0)
    assert window.hit("a", 101.0) is not None
    assert window.hit("a", 50.0) is None


def test_off_keeps_nothing() -> None:
    window = Window(max_hits=0, seconds=60)
    assert all(window.hit("a", 1.0) is None for _ in range(100))
    assert len(window) == 0


def test_keys_are_bounded_dropping_expired_windows_first_then_the_oldest() -> None:
    window = Window(max_hits=1, seconds=60, max_keys=3)
    window.hit("old", 0.0)
    window.hit("b", 50.0)
    window.hit("c", 55.0)
    window.hit("d", 70.0)  # "old" has expired: dropped
    assert len(window) == 3
    assert window.hit("b", 71.0) is not None
    window.hit("e", 72.0)  # none expired: the oldest ("b") goes
    assert len(window) == 3
    assert window.hit("b", 73.0) is None


def test_ipv6_clients_are_counted_per_64_prefix() -> None:
    assert client_key("2001:db8:1:2:aaaa::1") == client_key("2001:db8:1:2:bbbb::9")
    assert client_key("2001:db8:1:3::1") != client_key("2001:db8:1:2::1")
    assert client_key("192.0.2.1") == "192.0.2.1"
    assert client_key("testclient") == "testclient"


def test_retry_after_is_whole_seconds_at_least_one() -> None:
    assert [retry_after(w) for w in (0.0, 0.2, 1.0, 29.01)] == [1, 1, 1, 30]


def test_rate_limits_raise_with_the_seconds_left() -> None:
    limits = RateLimits(auth_failures=1, requests=1, window_seconds=60)
    user = uuid.uuid4()
    limits.request(user, T0)
    with pytest.raises(RateLimited) as refused:
        limits.request(user, T0 + timedelta(seconds=10.5))
    assert refused.value.retry_after_seconds == 50
    limits.failed_authentication("192.0.2.1", T0)
    with pytest.raises(RateLimited, match="failed authentications"):
        limits.failed_authentication("192.0.2.1", T0)
    assert limits.allows(user, T0 + timedelta(seconds=60))
