"""Account administration is audited (issue 13, item 5): every CLI command that changes
who may do what writes one record (who, when, what, from where) in the right chain, in
the same transaction, with no e-mail address, sign-on subject or token secret in it."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from api.cli import main
from config.settings import Settings, get_settings
from workflow.audit import chain
from workflow.runtime import open_database
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord

LOGIN = "ops-jo"  # the OS login the CLI runs as (getpass reads LOGNAME first)


@pytest.fixture
def cli(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The CLI on this test's database, run by LOGIN; the database to look at."""
    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", settings.effective_database_url)
    monkeypatch.setenv("CASEREVIEW_OIDC_ISSUER", "https://sso.example.test")
    monkeypatch.setenv("LOGNAME", LOGIN)
    get_settings.cache_clear()
    database = open_database(settings)
    yield database
    database.dispose()
    get_settings.cache_clear()


def _trail(database: Database) -> list[AuditRecord]:
    return database.read(lambda s: list(s.scalars(select(AuditRecord).order_by(AuditRecord.id))))


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    assert main(list(argv)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_every_account_command_writes_its_audit_record(
    cli: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    before = datetime.now(UTC)
    setup = _run(capsys, "setup", "--admin", "root", "--partnership", "north")
    _run(capsys, "partnerships", "add", "south", "--name", "South SCP")
    _run(
        capsys,
        "users",
        "add",
        "sam",
        "--partnership",
        "north",
        "--role",
        "viewer",
        "--email",
        "sam.patel@north.example",
        "--oidc-subject",
        "sam.patel@north.example",
    )
    _run(capsys, "users", "grant", "sam", "--partnership", "south", "--role", "review_group")
    _run(capsys, "users", "grant", "sam", "--partnership", "south", "--role", "review_group")
    _run(capsys, "users", "email", "sam", "sam@elsewhere.example")
    _run(capsys, "users", "email", "sam")
    _run(capsys, "users", "sign-on", "sam", "idp|sam-42")
    _run(capsys, "users", "sign-on", "sam")
    token_line = _run(capsys, "tokens", "create", "sam", "--label", "Sam's laptop")
    token_id = token_line.split("(id ")[1].split(",")[0]
    secret = next(w for w in token_line.split() if w.startswith("crt_"))
    _run(capsys, "tokens", "revoke", token_id)
    _run(capsys, "users", "revoke", "sam", "--partnership", "north", "--role", "viewer")
    _run(capsys, "users", "disable", "sam")
    _run(capsys, "users", "enable", "sam")
    after = datetime.now(UTC)

    trail = _trail(cli)
    got = [(r.chain, r.action, r.outcome) for r in trail]
    assert got == [
        ("north", "create_partnership", "ok"),
        ("system", "partnership.created", "ok"),
        ("system", "account.user_created", "ok"),
        ("north", "account.role_granted", "ok"),
        ("north", "account.role_granted", "ok"),
        ("north", "account.role_granted", "ok"),
        ("system", "account.token_created", "ok"),
        ("south", "create_partnership", "ok"),
        ("system", "partnership.created", "ok"),
        ("system", "account.user_created", "ok"),
        ("north", "account.role_granted", "ok"),
        ("south", "account.role_granted", "ok"),
        ("south", "account.role_granted", "unchanged"),
        ("system", "account.email_changed", "ok"),
        ("system", "account.email_changed", "ok"),
        ("system", "account.sign_on_mapped", "ok"),
        ("system", "account.sign_on_cleared", "ok"),
        ("system", "account.token_created", "ok"),
        ("system", "account.token_revoked", "ok"),
        ("north", "account.role_revoked", "ok"),
        ("system", "account.user_disabled", "ok"),
        ("system", "account.user_enabled", "ok"),
    ]
    # who and from where: the OS login and the host; when: as it happened
    assert {r.actor for r in trail} == {f"cli:{LOGIN}"}
    assert {r.client for r in trail} == {f"cli {socket.gethostname()}"}
    assert all(before <= r.occurred_at <= after for r in trail)
    assert all(r.case_id is None for r in trail)
    # what: whose account, which role where (personal-data rights named), which token
    details: list[dict[str, Any]] = [r.detail for r in trail]
    sam = details[9]
    assert (sam["username"], sam["system_admin"], sam["email"]) == ("sam", False, "set")
    assert sam["sign_on_issuer"] == "https://sso.example.test"
    assert details[2]["system_admin"] is True
    assert details[11] | {"user_id": "-"} == {
        "user_id": "-",
        "username": "sam",
        "partnership": "south",
        "role": "review_group",
        "personal_data": True,
    }
    assert details[10]["personal_data"] is False  # a viewer sees no personal data
    assert [details[13]["email"], details[14]["email"]] == ["set", "cleared"]
    assert details[17]["token_id"] == details[18]["token_id"] == token_id
    assert details[8]["partnership"] == "south"
    assert setup.count("crt_") == 1
    # no e-mail address, sign-on subject, token secret or label in any record
    text = str([(r.actor, r.client, r.detail) for r in trail])
    for secret_or_personal in ("@", "sam-42", secret, "laptop"):
        assert secret_or_personal not in text
    assert all(r.ok for r in cli.read(chain.verify_all))
    assert main(["audit", "verify"]) == 0


def test_a_refused_change_writes_nothing(cli: Database, capsys: pytest.CaptureFixture[str]) -> None:
    _run(capsys, "setup", "--admin", "root", "--partnership", "north")
    written = len(_trail(cli))
    assert main(["users", "add", "root"]) == 2  # already exists: the transaction rolls back
    assert main(["users", "grant", "nobody", "--partnership", "north", "--role", "viewer"]) == 2
    assert len(_trail(cli)) == written
    assert all(r.ok for r in cli.read(chain.verify_all))
