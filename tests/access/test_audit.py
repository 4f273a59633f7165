"""The audit trail: what is recorded, and that tampering is detected."""

from __future__ import annotations

import uuid
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, Table, insert, select, text

from tests.api.helpers import command, drive, open_case
from tests.support.factories import NOW
from tests.support.world import World
from workflow import migrate
from workflow.audit import chain
from workflow.database import Database, make_engine
from workflow.models import AuditRecord, Partnership


def records(database: Database, chain_name: str = "alpha") -> list[AuditRecord]:
    return database.read(
        lambda s: list(
            s.scalars(
                select(AuditRecord).where(AuditRecord.chain == chain_name).order_by(AuditRecord.seq)
            )
        )
    )


def test_commands_refusals_and_personal_reads_are_audited(
    client: TestClient, raw: TestClient, world: World, database: Database
) -> None:
    case = drive(client, open_case(client), "record_notification")
    assert command(client, case, "publish_report").status_code == 409
    client.get(f"/api/v1/cases/{case['id']}")
    raw.get(f"/api/v1/cases/{case['id']}", headers=world.auth("alpha", "viewer"))
    trail = [(r.actor, r.action, r.outcome) for r in records(database)]
    assert trail == [
        ("system", "create_partnership", "ok"),  # the chain starts with the partnership
        ("la.officer", "log_incident", "ok"),
        ("la.officer", "record_notification", "ok"),
        ("la.officer", "publish_report", "refused:CommandNotAllowed"),
        ("la.officer", "read_case", "ok"),
    ]  # the viewer read no personal data: nothing to audit
    assert all(str(r.case_id) == case["id"] for r in records(database)[1:])
    assert all(r.client.startswith("testclient") for r in records(database)[1:])
    assert "Child A" not in str([r.detail for r in records(database)])
    assert all(r.ok for r in database.read(chain.verify_all))


def test_probing_another_partnership_is_audited_in_its_chain(
    client: TestClient, raw: TestClient, world: World, database: Database
) -> None:
    case = open_case(client)
    response = command(raw, case, "record_notification", headers=world.auth("beta", "notifier"))
    assert response.status_code == 404
    probe = records(database)[-1]
    assert (probe.actor, probe.outcome) == ("beta-notifier", "refused:CaseNotFound")


def _prepare_trail(client: TestClient) -> None:
    case = open_case(client)
    drive(client, case, "record_notification", "complete_rapid_review", "record_decision")
    # 5 records in chain alpha: its creation, log, notification, rapid review, decision


def _without_triggers(conn: Connection, dialect: str) -> None:
    """What an attacker with database access does first."""
    if dialect == "sqlite":
        conn.execute(text("DROP TRIGGER trg_audit_record_no_update"))
        conn.execute(text("DROP TRIGGER trg_audit_record_no_delete"))
    else:
        conn.execute(text("ALTER TABLE audit_record DISABLE TRIGGER USER"))


TAMPERING: dict[str, tuple[str, int, str]] = {
    # name: (SQL, first broken seq, problem contains)
    "edit": (
        "UPDATE audit_record SET actor = 'someone-else' WHERE chain = 'alpha' AND seq = 2",
        2,
        "edited",
    ),
    "delete": ("DELETE FROM audit_record WHERE chain = 'alpha' AND seq = 2", 3, "missing"),
    "delete tail": ("DELETE FROM audit_record WHERE chain = 'alpha' AND seq = 5", 5, "end"),
    "reorder": (
        "UPDATE audit_record SET seq = CASE seq WHEN 2 THEN 3 ELSE 2 END "
        "WHERE chain = 'alpha' AND seq IN (2, 3)",
        2,
        "prev_hash",
    ),
    "insert": (
        "INSERT INTO audit_record (chain, seq, occurred_at, actor, action, client, "
        "outcome, detail, prev_hash, hash) SELECT chain, 6, occurred_at, 'intruder', "
        "'read_case', client, 'ok', detail, hash, hash FROM audit_record "
        "WHERE chain = 'alpha' AND seq = 5",
        6,
        "edited",
    ),
}


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_is_detected(client: TestClient, database: Database, kind: str) -> None:
    _prepare_trail(client)
    assert database.read(lambda s: chain.verify_chain(s, "alpha")).ok
    sql, broken_seq, problem = TAMPERING[kind]
    with database.engine.begin() as conn:
        _without_triggers(conn, database.engine.dialect.name)
        if kind == "reorder" and database.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_record DROP CONSTRAINT uq_audit_record_chain_seq"))
        if kind == "reorder" and database.engine.dialect.name == "sqlite":
            sql = sql.replace("UPDATE audit_record", "UPDATE OR REPLACE audit_record")
            sql = (
                "UPDATE audit_record SET seq = seq + 100 WHERE chain = 'alpha' AND seq = 2; "
                "UPDATE audit_record SET seq = 2 WHERE chain = 'alpha' AND seq = 3; "
                "UPDATE audit_record SET seq = 3 WHERE chain = 'alpha' AND seq = 102"
            )
        for statement in sql.split("; "):
            conn.execute(text(statement))
    report = database.read(lambda s: chain.verify_chain(s, "alpha"))
    assert not report.ok
    assert report.first_broken_seq == broken_seq
    assert problem in (report.problem or "")


def test_audit_rows_cannot_be_changed_through_the_application(
    client: TestClient, database: Database
) -> None:
    _prepare_trail(client)
    with pytest.raises(Exception, match="append-only"), database.engine.begin() as conn:
        conn.execute(text("UPDATE audit_record SET actor = 'x'"))

    def tamper(session: Any) -> None:
        session.scalars(select(AuditRecord)).first().actor = "x"
        session.flush()

    with pytest.raises(PermissionError):
        database.write(tamper)


def test_verification_endpoint(
    client: TestClient, raw: TestClient, world: World, database: Database
) -> None:
    _prepare_trail(client)
    admin = world.auth("alpha", "partnership_admin")
    body = raw.get("/api/v1/audit/verification", headers=admin).json()
    assert body["ok"] is True
    assert [(c["chain"], c["records"]) for c in body["chains"]] == [("alpha", 5)]
    denied = raw.get("/api/v1/audit/verification", headers=world.auth("alpha", "viewer"))
    assert denied.status_code == 403
    with database.engine.begin() as conn:
        _without_triggers(conn, database.engine.dialect.name)
        conn.execute(text(TAMPERING["edit"][0]))
    body = raw.get("/api/v1/audit/verification", headers=admin).json()
    assert body["ok"] is False
    assert body["chains"][0]["first_broken_seq"] == 2


REMOVAL = {
    # name: (SQL, chain, first broken seq, problem contains)
    "chain": (
        "DELETE FROM audit_record WHERE chain = 'beta'; "
        "DELETE FROM audit_chain_head WHERE chain = 'beta'",
        "beta",
        1,
        "no audit records: the chain was removed",
    ),
    "records, head kept": ("DELETE FROM audit_record WHERE chain = 'beta'", "beta", 1, "removed"),
    "head": ("DELETE FROM audit_chain_head WHERE chain = 'alpha'", "alpha", 6, "no head row"),
}


@pytest.mark.parametrize("kind", list(REMOVAL))
def test_a_partnership_without_its_chain_or_a_chain_without_its_head_is_broken(
    client: TestClient, database: Database, kind: str
) -> None:
    """Every partnership's chain starts when it is created, so none may be missing."""
    _prepare_trail(client)
    assert all(r.ok for r in database.read_snapshot(chain.verify_all))
    assert [r.chain for r in database.read_snapshot(chain.verify_all)] == [
        "alpha",
        "beta",
        "gamma",
    ]
    sql, name, seq, problem = REMOVAL[kind]
    with database.engine.begin() as conn:
        _without_triggers(conn, database.engine.dialect.name)
        for statement in sql.split("; "):
            conn.execute(text(statement))
    report = next(r for r in database.read_snapshot(chain.verify_all) if r.chain == name)
    assert not report.ok
    assert report.first_broken_seq == seq
    assert problem in (report.problem or "")


def test_the_migration_starts_a_chain_for_each_partnership_without_one(db_url: str) -> None:
    migrate.downgrade(db_url, "0010")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(cast(Table, Partnership.__table__)).values(
                    id=uuid.uuid4(), code="old", name="Old", division="scotland", created_at=NOW
                )
            )
        migrate.upgrade(db_url)
        report = Database(engine).read_snapshot(lambda s: chain.verify_chain(s, "old"))
        assert (report.ok, report.records) == (True, 1)
    finally:
        engine.dispose()
