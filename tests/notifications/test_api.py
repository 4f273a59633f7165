"""Subscriptions and deliveries over HTTP: who may manage and see them, the dead
letter listed and retried, then delivered."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from tests.api.helpers import open_case
from tests.notifications.conftest import LOOPBACK
from tests.notifications.receivers import WebhookReceiver
from tests.support.factories import NOW
from tests.support.world import World
from workflow.notifications.config import NotifyConfig
from workflow.notifications.worker import default_channels, run_once
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord

SUBS = "/api/v1/subscriptions"
AUDITED = ("create_subscription", "deactivate_subscription", "retry_delivery")


def _hook(url: str, partnership: str = "alpha") -> dict[str, object]:
    return {"partnership": partnership, "channel": "webhook", "target": url}


def _audited(database: Database) -> list[str]:
    return database.read(
        lambda s: list(
            s.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.action.in_(AUDITED))
                .order_by(AuditRecord.id)
            )
        )
    )


def test_managing_subscriptions(raw: TestClient, world: World, database: Database) -> None:
    admin = world.auth("alpha", "partnership_admin")
    created = raw.post(SUBS, json=_hook("https://example.org/hook"), headers=admin)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["secret"].startswith("whsec_")
    assert (body["active"], body["topics"], body["created_by"]) == (
        True,
        [],
        "alpha-partnership_admin",
    )
    one = raw.get(f"{SUBS}/{body['id']}", headers=world.auth("alpha", "review_group"))
    assert one.status_code == 200
    assert "secret" not in one.json()
    assert [s["id"] for s in raw.get(SUBS, headers=admin).json()["items"]] == [body["id"]]
    off = raw.post(f"{SUBS}/{body['id']}/deactivation", headers=admin)
    assert off.status_code == 200
    assert off.json()["active"] is False
    assert raw.post(f"{SUBS}/{body['id']}/deactivation", headers=admin).status_code == 200
    assert _audited(database) == ["create_subscription", "deactivate_subscription"]
    # other partnerships and roles without the permission
    assert (
        raw.get(f"{SUBS}/{body['id']}", headers=world.auth("beta", "partnership_admin")).status_code
        == 404
    )
    assert raw.get(SUBS, headers=world.auth("beta", "partnership_admin")).json()["items"] == []
    assert raw.get(f"{SUBS}/{body['id']}", headers=world.auth("alpha", "viewer")).status_code == 404
    refused = raw.post(
        SUBS, json=_hook("https://example.org/x"), headers=world.auth("alpha", "viewer")
    )
    assert refused.status_code == 403
    assert refused.headers["content-type"] == "application/problem+json"


def test_bad_subscriptions_are_422_naming_the_field(raw: TestClient, world: World) -> None:
    admin = world.auth("alpha", "partnership_admin")
    for body, field in (
        ({**_hook("ftp://example.org/x")}, "target"),
        ({"partnership": "alpha", "channel": "email", "target": "a@x.org, b@y.org"}, "target"),
        ({**_hook("https://example.org/x"), "topics": ["case.deleted"]}, "topics.0"),
        ({**_hook("https://example.org/x"), "channel": "sms"}, "channel"),
        ({**_hook("https://example.org/x"), "role": "king"}, "role"),
        ({"partnership": "alpha", "channel": "email"}, "target"),  # no target, no role
        ({"partnership": "alpha", "channel": "webhook", "role": "review_group"}, "target"),
    ):
        response = raw.post(SUBS, json=body, headers=admin)
        assert response.status_code == 422, (body, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], response.json()


def test_a_dead_delivery_is_listed_retried_and_then_delivered(
    client: TestClient,
    raw: TestClient,
    world: World,
    database: Database,
    webhook: WebhookReceiver,
) -> None:
    config = NotifyConfig(
        max_attempts=1, webhook_timeout_seconds=5, webhook_allowed_networks=LOOPBACK
    )
    admin = world.auth("alpha", "partnership_admin")
    assert raw.post(SUBS, json=_hook(webhook.url), headers=admin).status_code == 201
    open_case(client)
    open_case(client)
    webhook.statuses = [500, 500]
    assert run_once(database, default_channels(config), config, NOW).dead == 2
    dead = raw.get("/api/v1/deliveries?status=dead&limit=1", headers=admin).json()
    assert len(dead["items"]) == 1
    assert dead["next_cursor"]
    rest = raw.get(f"/api/v1/deliveries?status=dead&cursor={dead['next_cursor']}", headers=admin)
    assert len(rest.json()["items"]) == 1
    assert rest.json()["next_cursor"] is None
    item = dead["items"][0]
    assert (item["status"], item["attempts"], item["last_error"]) == ("dead", 1, "HTTP 500")
    assert (
        raw.get(
            "/api/v1/deliveries?status=dead", headers=world.auth("beta", "partnership_admin")
        ).json()["items"]
        == []
    )
    assert raw.get("/api/v1/deliveries?status=lost", headers=admin).status_code == 422
    path = f"/api/v1/deliveries/{item['id']}/retry"
    assert raw.post(path, headers=world.auth("beta", "partnership_admin")).status_code == 404
    assert raw.post(path, headers=world.auth("alpha", "viewer")).status_code == 404
    retried = raw.post(path, headers=admin)
    assert retried.status_code == 200, retried.text
    assert (retried.json()["status"], retried.json()["attempts"]) == ("pending", 0)
    assert raw.post(path, headers=admin).status_code == 409  # only dead ones
    report = run_once(database, default_channels(config), config, NOW + timedelta(seconds=1))
    assert (report.claimed, report.delivered) == (1, 1)
    after = raw.get(f"/api/v1/deliveries/{item['id']}", headers=admin).json()
    assert after["status"] == "delivered"
    assert _audited(database) == ["create_subscription", "retry_delivery"]
    assert webhook.received[-1].json["id"] == item["message_id"]
