"""E-mail subscriptions addressed to a role: each message goes to every active member
of the partnership holding that role who has an e-mail address, read at delivery."""

from __future__ import annotations

from datetime import timedelta
from email import message_from_bytes

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from api.cli import main
from config.settings import Settings, get_settings
from tests.notifications.conftest import admin_ctx, deliveries, smtp_config
from tests.notifications.receivers import SmtpSink
from tests.support.factories import NOW, make_case
from tests.support.world import ADMIN, World
from workflow.access import accounts
from workflow.core.errors import InvalidFacts
from workflow.core.rulebook import RulebookRegistry
from workflow.notifications import subscriptions
from workflow.notifications.email import NO_RECIPIENTS
from workflow.notifications.worker import default_channels, run_once
from workflow.storage.database import Database


def _email(database: Database, username: str, address: str | None) -> None:
    database.write(
        lambda s: accounts.set_email(s, accounts.get_user(s, username), address, now=NOW, by=ADMIN)
    )


def _role_subscription(
    database: Database, world: World, rulebooks: RulebookRegistry, role: str
) -> subscriptions.Created:
    new = subscriptions.NewSubscription("alpha", "email", None, (), role)
    return database.write(lambda s: subscriptions.create(s, admin_ctx(world, rulebooks), new))


def test_a_role_subscription_writes_to_the_roles_members(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    smtp: tuple[SmtpSink, int],
) -> None:
    sink, port = smtp
    _email(database, "alpha-review_group", "rg@alpha.example")
    _email(database, "la.officer", "officer@alpha.example")  # notifier and review group
    _email(database, "alpha-notifier", "notifier@alpha.example")  # another role
    _email(database, "beta-review_group", "rg@beta.example")  # another partnership

    def left(s: Session) -> None:  # a member with the role and an address, disabled
        alpha = accounts.get_partnership(s, "alpha")
        user = accounts.create_user(s, "left", "Left", NOW, email="left@alpha.example", by=ADMIN)
        accounts.grant_role(s, user, alpha, "review_group", now=NOW, by=ADMIN)
        accounts.set_active(s, user, False, now=NOW, by=ADMIN)

    database.write(left)
    made = _role_subscription(database, world, rulebooks, "review_group")
    assert made.subscription.target == subscriptions.ROLE_MEMBERS
    notifier = world.principals[("alpha", "notifier")]
    make_case(database, rulebooks, notifier)
    config = smtp_config(port)
    assert (
        run_once(database, default_channels(config), config, NOW + timedelta(minutes=1)).delivered
        == 1
    )
    (envelope,) = sink.messages
    assert envelope.rcpt_tos == ["officer@alpha.example", "rg@alpha.example"]
    mail = message_from_bytes(envelope.content)
    assert mail["To"] == "officer@alpha.example, rg@alpha.example"
    # read at each delivery: an address removed is not written to again
    _email(database, "la.officer", None)
    make_case(database, rulebooks, notifier)
    assert (
        run_once(database, default_channels(config), config, NOW + timedelta(minutes=2)).delivered
        == 1
    )
    assert sink.messages[1].rcpt_tos == ["rg@alpha.example"]
    stored = [d.last_error for d in deliveries(database)]
    assert stored == [None, None]  # addresses are never stored with the delivery


def test_a_role_nobody_can_be_written_to_is_a_failed_delivery(
    database: Database,
    rulebooks: RulebookRegistry,
    world: World,
    smtp: tuple[SmtpSink, int],
) -> None:
    sink, port = smtp
    _role_subscription(database, world, rulebooks, "viewer")  # no viewer has an address
    make_case(database, rulebooks, world.principals[("alpha", "notifier")])
    config = smtp_config(port)
    report = run_once(database, default_channels(config), config, NOW + timedelta(minutes=1))
    assert (report.delivered, report.retrying, report.errors) == (0, 1, {NO_RECIPIENTS: 1})
    assert sink.messages == []


def test_only_an_email_subscription_with_a_role_may_omit_its_target(
    database: Database, rulebooks: RulebookRegistry, world: World
) -> None:
    ctx = admin_ctx(world, rulebooks)
    for channel, role in (("email", None), ("webhook", "review_group")):
        new = subscriptions.NewSubscription("alpha", channel, None, (), role)
        with pytest.raises(InvalidFacts) as refused:
            database.write(lambda s, n=new: subscriptions.create(s, ctx, n))
        assert refused.value.field == "target"


def test_the_api_shows_a_role_subscription_without_a_target(raw: TestClient, world: World) -> None:
    admin = world.auth("alpha", "partnership_admin")
    body = {"partnership": "alpha", "channel": "email", "role": "review_group"}
    made = raw.post("/api/v1/subscriptions", json=body, headers=admin)
    assert made.status_code == 201, made.text
    assert (made.json()["target"], made.json()["role"]) == (None, "review_group")
    listed = raw.get("/api/v1/subscriptions", headers=admin).json()["items"]
    assert [(s["target"], s["role"]) for s in listed] == [(None, "review_group")]


def test_the_users_email_command_sets_checks_and_clears(
    database: Database,
    world: World,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()

    def address() -> str | None:
        return database.read(lambda s: accounts.get_user(s, "alpha-viewer").email)

    try:
        assert main(["users", "email", "alpha-viewer", "v@alpha.example"]) == 0
        assert address() == "v@alpha.example"
        assert main(["users", "email", "alpha-viewer", "a@x.org, b@y.org"]) == 2
        assert "one address" in capsys.readouterr().err
        assert address() == "v@alpha.example"
        assert main(["users", "email", "alpha-viewer"]) == 0
        assert address() is None
    finally:
        get_settings.cache_clear()
