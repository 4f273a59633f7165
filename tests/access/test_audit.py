"""The audit trail: what is recorded, and that tampering is detected."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select, text

from tests.api.helpers import command, drive, open_case
from tests.support.factories import NOW
from tests.support.world import ADMIN, World
from workflow.audit import chain
from workflow.storage import migrate
from workflow.storage.database import Database, make_engine
from workflow.storage.models import AuditRecord


def records(database: Database, chain_name: str = "alpha") -> list[AuditRecord]:
    """The chain's records after the test world's set-up (its grants are audited too)."""
    return database.read(
        lambda s: list(
            s.scalars(
                select(AuditRecord)
                .where(AuditRecord.chain == chain_name, AuditRecord.actor != ADMIN.name)
                .order_by(AuditRecord.seq)
            )
        )
    )


def set_up_records(database: Database, chain_name: str = "alpha") -> int:
    """How many records the test world's set-up wrote in the chain (they come first)."""
    return database.read(
        lambda s: (
            s.scalar(
                select(func.count())
                .select_from(AuditRecord)
                .where(AuditRecord.chain == chain_name, AuditRecord.actor == ADMIN.name)
            )
            or 0
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
        ("la.officer", "log_incident", "ok"),
        ("la.officer", "record_notification", "ok"),
        ("la.officer", "publish_report", "refused:CommandNotAllowed"),
        ("la.officer", "read_case", "ok"),
    ]  # the viewer read no personal data: nothing to audit
    assert all(r.case_id is not None and str(r.case_id) == case["id"] for r in records(database))
    assert all(r.client.startswith("testclient") for r in records(database))
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


def _prepare_trail(client: TestClient, database: Database) -> int:
    """Four records in chain alpha after the set-up's: log, notification, rapid review,
    decision (+ no reads). Returns the seq the first of them follows."""
    case = open_case(client)
    drive(client, case, "record_notification", "complete_rapid_review", "record_decision")
    return set_up_records(database)


def _without_triggers(conn: Connection, dialect: str) -> None:
    """What an attacker with database access does first."""
    if dialect == "sqlite":
        conn.execute(text("DROP TRIGGER trg_audit_record_no_update"))
        conn.execute(text("DROP TRIGGER trg_audit_record_no_delete"))
    else:
        conn.execute(text("ALTER TABLE audit_record DISABLE TRIGGER USER"))


TAMPERING: dict[str, tuple[str, int, str]] = {
    # name: (SQL, first broken seq, problem contains); seqs count from the set-up's last
    "edit": (
        "UPDATE audit_record SET actor = 'someone-else' WHERE chain = 'alpha' AND seq = {2}",
        2,
        "edited",
    ),
    "delete": ("DELETE FROM audit_record WHERE chain = 'alpha' AND seq = {2}", 3, "missing"),
    "delete tail": ("DELETE FROM audit_record WHERE chain = 'alpha' AND seq = {4}", 4, "end"),
    "reorder": (
        "UPDATE audit_record SET seq = CASE seq WHEN {2} THEN {3} ELSE {2} END "
        "WHERE chain = 'alpha' AND seq IN ({2}, {3})",
        2,
        "prev_hash",
    ),
    "insert": (
        "INSERT INTO audit_record (chain, seq, occurred_at, actor, action, client, "
        "outcome, detail, prev_hash, hash) SELECT chain, {5}, occurred_at, 'intruder', "
        "'read_case', client, 'ok', detail, hash, hash FROM audit_record "
        "WHERE chain = 'alpha' AND seq = {4}",
        5,
        "edited",
    ),
}


def _at(sql: str, base: int) -> str:
    """`sql` with each "{n}" replaced by the seq base + n."""
    return re.sub(r"\{(\d+)\}", lambda m: str(base + int(m.group(1))), sql)


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_is_detected(client: TestClient, database: Database, kind: str) -> None:
    base = _prepare_trail(client, database)
    assert database.read(lambda s: chain.verify_chain(s, "alpha")).ok
    sql, broken_seq, problem = TAMPERING[kind]
    sql, broken_seq = _at(sql, base), base + broken_seq
    with database.engine.begin() as conn:
        _without_triggers(conn, database.engine.dialect.name)
        if kind == "reorder" and database.engine.dialect.name == "postgresql":
            conn.execute(text("ALTER TABLE audit_record DROP CONSTRAINT uq_audit_record_chain_seq"))
        if kind == "reorder" and database.engine.dialect.name == "sqlite":
            sql = sql.replace("UPDATE audit_record", "UPDATE OR REPLACE audit_record")
            sql = _at(
                "UPDATE audit_record SET seq = seq + 100 WHERE chain = 'alpha' AND seq = {2}; "
                "UPDATE audit_record SET seq = {2} WHERE chain = 'alpha' AND seq = {3}; "
                "UPDATE audit_record SET seq = {3} WHERE chain = 'alpha' AND seq = {102}",
                base,
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
    _prepare_trail(client, database)
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
    base = _prepare_trail(client, database)
    admin = world.auth("alpha", "partnership_admin")
    body = raw.get("/api/v1/audit/verification", headers=admin).json()
    assert body["ok"] is True
    assert [(c["chain"], c["records"]) for c in body["chains"]] == [("alpha", base + 4)]
    denied = raw.get("/api/v1/audit/verification", headers=world.auth("alpha", "viewer"))
    assert denied.status_code == 403
    with database.engine.begin() as conn:
        _without_triggers(conn, database.engine.dialect.name)
        conn.execute(text(_at(TAMPERING["edit"][0], base)))
    body = raw.get("/api/v1/audit/verification", headers=admin).json()
    assert body["ok"] is False
    assert body["chains"][0]["first_broken_seq"] == base + 2


REMOVAL = {
    # name: (SQL, chain, first broken seq (in alpha: after the set-up's), problem contains)
    "chain": (
        "DELETE FROM audit_record WHERE chain = 'beta'; "
        "DELETE FROM audit_chain_head WHERE chain = 'beta'",
        "beta",
        1,
        "no audit records: the chain was removed",
    ),
    "records, head kept": ("DELETE FROM audit_record WHERE chain = 'beta'", "beta", 1, "removed"),
    "head": ("DELETE FROM audit_chain_head WHERE chain = 'alpha'", "alpha", 5, "no head row"),
}


@pytest.mark.parametrize("kind", list(REMOVAL))
def test_a_partnership_without_its_chain_or_a_chain_without_its_head_is_broken(
    client: TestClient, database: Database, kind: str
) -> None:
    """Every partnership's chain starts when it is created, so none may be missing."""
    base = _prepare_trail(client, database)
    assert all(r.ok for r in database.read_snapshot(chain.verify_all))
    assert [r.chain for r in database.read_snapshot(chain.verify_all)] == [
        "alpha",
        "beta",
        "gamma",
        "system",
    ]
    sql, name, after_set_up, problem = REMOVAL[kind]
    seq = after_set_up if name != "alpha" else base + after_set_up
    with database.engine.begin() as conn:
        _without_triggers(conn, database.engine.dialect.name)
        for statement in sql.split("; "):
            conn.execute(text(statement))
    report = next(r for r in database.read_snapshot(chain.verify_all) if r.chain == name)
    assert not report.ok
    assert report.first_broken_seq == seq
    assert problem in (report.problem or "")


def _uuid_for(dialect: str) -> object:
    """A new id as the column stores it (SQLite: 32 hex digits, as SQLAlchemy's Uuid)."""
    return uuid.uuid4().hex if dialect == "sqlite" else uuid.uuid4()


def test_the_migration_starts_a_chain_for_each_partnership_without_one(db_url: str) -> None:
    migrate.downgrade(db_url, "0012")
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:  # the schema of 0012: no ORM model (it is newer)
            conn.execute(
                text(
                    "INSERT INTO partnership (id, code, name, division, created_at) "
                    "VALUES (:id, 'old', 'Old', 'scotland', :at)"
                ),
                {
                    "id": uuid.uuid4().hex if conn.dialect.name == "sqlite" else uuid.uuid4(),
                    "at": NOW,
                },
            )
        migrate.upgrade(db_url)
        report = Database(engine).read_snapshot(lambda s: chain.verify_chain(s, "old"))
        assert (report.ok, report.records) == (True, 1)
    finally:
        engine.dispose()
