"""Where a webhook may connect: public addresses only, unless a network is allowed.

A partnership administrator chooses a webhook's URL, so without a check the worker
could be pointed at the host's own services, the database, or a cloud metadata
endpoint (server-side request forgery; OWASP API7:2023). The check is made on the
address the socket actually connected to, after DNS, so a name that resolves (or is
re-resolved) to a private address is refused too; it happens before any byte of the
request is sent. `CASEREVIEW_WEBHOOK_ALLOWED_NETWORKS` lists CIDRs that are allowed
besides public addresses (e.g. a receiver on the council's internal network).

Through a proxy (`http_proxy` / `https_proxy`, honoured as urllib does) the socket's
peer is the proxy, so that check alone would let any target pass. The target's host
is therefore resolved here and every address it has must be allowed before the
request is handed to the proxy; the proxy resolves the name again itself, so a name
whose DNS answer changes in between is the proxy's to refuse (docs/notifications.md).
"""

from __future__ import annotations

import http.client
import ipaddress
import socket
import urllib.parse
import urllib.request
from collections.abc import Iterable
from typing import Any

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AddressNotAllowed(OSError):
    """The peer's address is neither public nor in an allowed network."""


class EgressPolicy:
    """Public (globally routable) addresses, plus the allowed networks."""

    def __init__(self, allowed_networks: Iterable[str] = ()) -> None:
        self.allowed: tuple[Network, ...] = tuple(
            ipaddress.ip_network(n, strict=False) for n in allowed_networks
        )

    def permits(self, address: str) -> bool:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # drop an IPv6 zone id
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if any(ip in net for net in self.allowed):
            return True
        return ip.is_global and not ip.is_multicast

    def check(self, sock: Any) -> None:
        address = sock.getpeername()[0]
        if not self.permits(address):
            sock.close()
            raise AddressNotAllowed("address not allowed")

    def check_host(self, host: str, port: int) -> None:
        """Every address `host` resolves to must be allowed (for a proxied request,
        whose socket only ever sees the proxy). A name that does not resolve raises
        socket.gaierror, as a direct connection would."""
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        if not found or not all(self.permits(str(info[4][0])) for info in found):
            raise AddressNotAllowed("address not allowed")


def _check_proxied(policy: EgressPolicy, req: urllib.request.Request) -> None:
    """If urllib's ProxyHandler has pointed `req` at a proxy (req.host is then the
    proxy's host, no longer the URL's), check the URL's own host."""
    url = urllib.parse.urlsplit(req.full_url)
    if req.host == url.netloc or url.hostname is None:
        return
    policy.check_host(url.hostname, url.port or (443 if url.scheme == "https" else 80))


def handlers(policy: EgressPolicy) -> list[urllib.request.BaseHandler]:
    """urllib handlers whose connections apply `policy` as soon as the socket is
    connected: before the request (HTTP) or the TLS handshake (HTTPS); through a
    proxy, to the target's resolved addresses before connecting to the proxy."""

    def create_connection(*args: Any, **kwargs: Any) -> socket.socket:
        sock = socket.create_connection(*args, **kwargs)
        policy.check(sock)
        return sock

    # `_create_connection` is http.client's own hook for opening the socket (3.4+).
    class CheckedHTTPConnection(http.client.HTTPConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = create_connection

    class CheckedHTTPSConnection(http.client.HTTPSConnection):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._create_connection = create_connection

    class CheckedHTTPHandler(urllib.request.HTTPHandler):
        def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            _check_proxied(policy, req)
            return self.do_open(CheckedHTTPConnection, req)

    class CheckedHTTPSHandler(urllib.request.HTTPSHandler):
        def https_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
            _check_proxied(policy, req)
            return self.do_open(CheckedHTTPSConnection, req)

    return [CheckedHTTPHandler(), CheckedHTTPSHandler()]
