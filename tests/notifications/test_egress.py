"""Webhooks reach public addresses only, unless a network is allowed (egress.py): a
target on loopback, a private range or link-local (cloud metadata) is refused after
DNS and before any byte of the request leaves, and the refusal is the delivery's
stored error."""

from __future__ import annotations

import socket
import threading
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import timedelta

import pytest

from tests.notifications.conftest import admin_ctx, deliveries, subscribe
from tests.notifications.receivers import WebhookReceiver
from tests.support.factories import NOW, make_case
from tests.support.world import World
from workflow.core.rulebook import RulebookRegistry
from workflow.notifications.channels import DeliveryFailed, Outgoing
from workflow.notifications.config import NotifyConfig
from workflow.notifications.egress import EgressPolicy
from workflow.notifications.webhook import NOT_ALLOWED, WebhookChannel
from workflow.notifications.worker import default_channels, run_once
from workflow.storage.database import Database


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2001:4860:4860::8888", True),
        ("127.0.0.1", False),
        ("::1", False),
        ("::ffff:127.0.0.1", False),  # IPv4-mapped loopback
        ("10.1.2.3", False),
        ("172.16.0.9", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),  # cloud metadata
        ("100.64.0.1", False),  # carrier-grade NAT
        ("fc00::1", False),
        ("fe80::1%eth0", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
    ],
)
def test_only_public_addresses_by_default(address: str, public: bool) -> None:
    assert EgressPolicy().permits(address) is public


def test_allowed_networks_open_exactly_those_networks() -> None:
    policy = EgressPolicy(["10.20.0.0/16", "fd00:1::/64"])
    assert policy.permits("10.20.5.6")
    assert policy.permits("fd00:1::7")
    assert not policy.permits("10.21.0.1")
    assert not policy.permits("127.0.0.1")
    assert policy.permits("8.8.8.8")


def _outgoing(target: str) -> Outgoing:
    return Outgoing(uuid.uuid4(), uuid.uuid4(), "case.stage_changed", {"id": "x"}, target, "s", 1)


class Listener:
    """A TCP listener on loopback that records whether any byte arrived."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.bytes_received = 0
        self.accepted = threading.Event()
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        try:
            conn, _ = self.sock.accept()
        except OSError:
            self.done.set()
            return
        self.accepted.set()
        conn.settimeout(2)
        try:
            while chunk := conn.recv(4096):
                self.bytes_received += len(chunk)
        except OSError:
            pass
        conn.close()
        self.done.set()


@pytest.fixture
def listener() -> Iterator[Listener]:
    made = Listener()
    yield made
    made.sock.close()


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])  # a literal, and a name (DNS)
def test_a_loopback_target_is_refused_before_a_byte_is_sent(
    listener: Listener, scheme: str, host: str
) -> None:
    channel = WebhookChannel(5)
    with pytest.raises(DeliveryFailed) as refused:
        channel.send(_outgoing(f"{scheme}://{host}:{listener.port}/hook"), NOW)
    assert refused.value.reason == NOT_ALLOWED
    assert listener.done.wait(5)  # the worker connected (the check is on the peer) and hung up
    assert listener.accepted.is_set()
    assert listener.bytes_received == 0  # no request line, no TLS ClientHello


def test_an_allowed_network_is_delivered_to(webhook: WebhookReceiver) -> None:
    WebhookChannel(5, EgressPolicy(["127.0.0.0/8"])).send(_outgoing(webhook.url), NOW)
    assert [r.json for r in webhook.received] == [{"id": "x"}]


def test_the_refusal_is_the_deliverys_error_and_nothing_arrives(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    webhook: WebhookReceiver,
    notify_config: NotifyConfig,
) -> None:
    subscribe(database, admin_ctx(world, rulebooks), "alpha", "webhook", webhook.url)
    make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    default_only = replace(notify_config, webhook_allowed_networks=())
    later = NOW + timedelta(minutes=1)
    report = run_once(database, default_channels(default_only), default_only, later)
    assert (report.claimed, report.delivered, report.retrying) == (1, 0, 1)
    assert report.errors == {NOT_ALLOWED: 1}
    assert [(d.status, d.last_error) for d in deliveries(database)] == [("retrying", NOT_ALLOWED)]
    assert webhook.received == []


@pytest.fixture
def no_proxy_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for name in ("no_proxy", "NO_PROXY", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY"):
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


class ProxyListener(Listener):
    """The Listener, on 127.0.0.2: a proxy whose address is allowed while the
    targets behind it (127.0.0.1, localhost) are not."""

    def __init__(self) -> None:
        self.sock = socket.create_server(("127.0.0.2", 0))
        self.port = self.sock.getsockname()[1]
        self.bytes_received = 0
        self.accepted = threading.Event()
        self.done = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()


@pytest.mark.parametrize("scheme", ["http", "https"])
@pytest.mark.parametrize("host", ["127.0.0.1", "localhost"])
def test_through_a_proxy_the_target_itself_is_checked_before_a_byte_is_sent(
    no_proxy_env: pytest.MonkeyPatch, scheme: str, host: str
) -> None:
    proxy = ProxyListener()
    try:
        no_proxy_env.setenv(f"{scheme}_proxy", f"http://127.0.0.2:{proxy.port}")
        channel = WebhookChannel(5, EgressPolicy(["127.0.0.2/32"]))  # the proxy only
        with pytest.raises(DeliveryFailed) as refused:
            channel.send(_outgoing(f"{scheme}://{host}:9/hook"), NOW)
        assert refused.value.reason == NOT_ALLOWED
        assert proxy.bytes_received == 0
        assert not proxy.accepted.is_set()  # refused before connecting to the proxy
    finally:
        proxy.sock.close()


def test_through_a_proxy_an_allowed_target_is_delivered(
    no_proxy_env: pytest.MonkeyPatch, webhook: WebhookReceiver
) -> None:
    # the receiver plays the proxy (it answers any POST, an absolute URI too)
    no_proxy_env.setenv("http_proxy", webhook.url.removesuffix("/hook"))
    channel = WebhookChannel(5, EgressPolicy(["127.0.0.1/32", "127.0.0.3/32"]))
    channel.send(_outgoing("http://127.0.0.3:9/hook"), NOW)
    assert [r.json for r in webhook.received] == [{"id": "x"}]
