"""What a webhook target may be: an absolute http(s) URL that every layer below
(urllib, http.client, the egress check) reads the same way.

A prefix check let `http://[::1`, `http://exa mple.org/` and
`http://127.0.0.1:8107\\@example.org/` through; urllib then raised on them at every
delivery. So a target is parsed here, strictly, at creation and again before each
send (an old row may predate this check). The reasons name the rule that was
broken, never the URL itself, so they can be stored, shown and logged.
"""

from __future__ import annotations

import ipaddress
import re
import string
import unicodedata

MAX_TARGET_LENGTH = 2000  # the column's width (subscription.target)
SCHEMES = ("http", "https")
# RFC 3986: unreserved, reserved and "%" (the start of an escape); anything else
# (spaces, backslashes, quotes, <>, {}, |, ^, `, non-ASCII) must be percent-encoded.
_URL_CHARS = frozenset(string.ascii_letters + string.digits + "-._~:/?#[]@!$&'()*+,;=%")
_BAD_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")
_LABEL = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?")


class InvalidTarget(ValueError):
    """The target is not a URL a webhook may use; `reason` says why (no URL in it)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def check_text(target: str) -> None:
    """Refuse control characters and whitespace: no target of any channel has them."""
    for ch in target:
        if ch.isspace():
            raise InvalidTarget("the target may not contain spaces or other whitespace")
        if unicodedata.category(ch) == "Cc":
            raise InvalidTarget("the target may not contain control characters")


def check_webhook_target(url: str) -> None:
    """Raise InvalidTarget unless `url` is `http(s)://host[:port][/path][?query]` with
    a DNS name, IPv4 address or [IPv6] address as host, no user information and no
    fragment, in at most MAX_TARGET_LENGTH characters of RFC 3986."""
    if len(url) > MAX_TARGET_LENGTH:
        raise InvalidTarget(f"a webhook URL has at most {MAX_TARGET_LENGTH} characters")
    check_text(url)
    for ch in url:
        if ch not in _URL_CHARS:
            if ord(ch) > 127:
                raise InvalidTarget(
                    "non-ASCII characters must be percent-encoded "
                    "(an internationalised host name in its xn-- form)"
                )
            raise InvalidTarget(f"the character {ch!r} is not allowed in a URL; percent-encode it")
    if _BAD_ESCAPE.search(url):
        raise InvalidTarget("a '%' must start a %XX escape")
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise InvalidTarget("a webhook target must be an http:// or https:// URL")
    if "#" in rest:
        raise InvalidTarget("a webhook URL may not have a #fragment (it is never sent)")
    authority = re.split(r"[/?]", rest, maxsplit=1)[0]
    if "@" in authority:
        raise InvalidTarget("a webhook URL may not hold user information (user:password@)")
    host, port = _split_authority(authority)
    _check_host(host)
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        raise InvalidTarget("the port must be a number from 1 to 65535")


def _split_authority(authority: str) -> tuple[str, str | None]:
    if authority.startswith("["):
        end = authority.find("]")
        if end < 0:
            raise InvalidTarget("the host's '[' has no closing ']'")
        host, after = authority[: end + 1], authority[end + 1 :]
        if after and not after.startswith(":"):
            raise InvalidTarget("only a :port may follow the [IPv6] host")
        return host, after[1:] if after else None
    if authority.count(":") > 1 or "[" in authority or "]" in authority:
        raise InvalidTarget("an IPv6 host must be written in [brackets]")
    host, colon, port = authority.partition(":")
    return host, port if colon else None


def _check_host(host: str) -> None:
    if not host:
        raise InvalidTarget("a webhook URL must name a host")
    if host.startswith("["):
        inner = host[1:-1]
        if "%" in inner:
            raise InvalidTarget("the [IPv6] host may not carry a zone id")
        try:
            ipaddress.IPv6Address(inner)
        except ValueError:
            raise InvalidTarget("the host in [brackets] is not an IPv6 address") from None
        return
    if "%" in host:
        raise InvalidTarget("the host may not be percent-encoded")
    name = host.lower().removesuffix(".")
    labels = name.split(".")
    if labels[-1].isdigit():  # a number where the top-level domain would be: IPv4 only
        try:
            ipaddress.IPv4Address(name)
        except ValueError:
            raise InvalidTarget("the host is not a valid IPv4 address") from None
        return
    if len(name) > 253 or not all(_LABEL.fullmatch(label) for label in labels):
        raise InvalidTarget(
            "the host is not a valid name (letters, digits and hyphens, in dot-separated "
            "labels of at most 63 characters)"
        )
