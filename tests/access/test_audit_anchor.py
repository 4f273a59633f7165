"""Tampering the hash chain alone cannot show, caught by signed checkpoints kept
outside the database (docs/audit.md): `casereview audit verify` exits 1 and names the
first problem (chain and seq) as its last line. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, func, select, text
from sqlalchemy.orm import Session

from api.cli import main
from api.main import create_app
from config.settings import Settings, get_settings
from tests.access.test_audit import _without_triggers
from tests.support.factories import NOW
from tests.support.world import ADMIN, World
from workflow.access import accounts
from workflow.audit import chain
from workflow.storage.database import Database
from workflow.storage.models import AuditRecord


@dataclass
class Anchored:
    checkpoint_file: Path
    signing_key: Path
    settings: Settings


@pytest.fixture
def cli_db(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    monkeypatch.setenv("CASEREVIEW_DATABASE_URL", settings.effective_database_url)
    get_settings.cache_clear()
    yield settings
    get_settings.cache_clear()


@pytest.fixture
def anchored(
    cli_db: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Anchored:
    key, checkpoints = tmp_path / "keys" / "audit-signing.pem", tmp_path / "audit.checkpoints"
    key.parent.mkdir()
    assert main(["audit", "keygen", str(key)]) == 0
    monkeypatch.setenv("CASEREVIEW_AUDIT_CHECKPOINT_FILE", str(checkpoints))
    monkeypatch.setenv("CASEREVIEW_AUDIT_SIGNING_KEY_FILE", str(key))
    monkeypatch.setenv("CASEREVIEW_AUDIT_VERIFY_KEY_FILE", f"{key}.pub")
    get_settings.cache_clear()
    capsys.readouterr()
    return Anchored(checkpoints, key, get_settings())


def fill_to(database: Database, chain_name: str, total: int) -> None:
    """More records in `chain_name` until it holds `total` (the test world's set-up
    already wrote some: its partnerships' creation and grants are audited)."""
    have = database.read(
        lambda s: (
            s.scalar(
                select(func.count()).select_from(AuditRecord).where(AuditRecord.chain == chain_name)
            )
            or 0
        )
    )
    assert have <= total
    activity(database, chain_name, total - have)


def activity(database: Database, chain_name: str, n: int) -> None:
    """`n` more records in `chain_name`, through the real appender."""

    def run(s: Session) -> None:
        for i in range(n):
            chain.append(
                s,
                chain=chain_name,
                occurred_at=NOW + timedelta(seconds=i),
                actor="alpha-review_group",
                action="read_case",
                case_id=None,
                client="test",
                outcome="ok",
            )

    database.write(run)


def verify(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str]:
    code = main(["audit", "verify", *args])
    out = capsys.readouterr().out
    return code, out.strip().splitlines()[-1]


def hash_at(conn: Connection, chain_name: str, seq: int) -> str:
    return str(
        conn.execute(
            text("SELECT hash FROM audit_record WHERE chain = :c AND seq = :s"),
            {"c": chain_name, "s": seq},
        ).scalar_one()
    )


# --- what an attacker with write access to the database does -----------------------


def truncate(conn: Connection) -> None:
    """The last 50 records of alpha go, and its head moves back to match."""
    conn.execute(text("DELETE FROM audit_record WHERE chain = 'alpha' AND seq > 20"))
    conn.execute(
        text("UPDATE audit_chain_head SET seq = 20, hash = :h WHERE chain = 'alpha'"),
        {"h": hash_at(conn, "alpha", 20)},
    )


def delete_chain(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_record WHERE chain = 'beta'"))
    conn.execute(text("DELETE FROM audit_chain_head WHERE chain = 'beta'"))


def delete_chain_and_partnership(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_record WHERE chain = 'delta'"))
    conn.execute(text("DELETE FROM audit_chain_head WHERE chain = 'delta'"))
    conn.execute(text("DELETE FROM partnership WHERE code = 'delta'"))


def rewrite_and_rehash(conn: Connection) -> None:
    """Record 5 of alpha gets another actor; every later hash and the head are recomputed."""
    with Session(bind=conn) as s:  # the attacker's own connection: it holds the locks
        rows = list(s.scalars(select(AuditRecord).where(AuditRecord.chain == "alpha")))
    rows.sort(key=lambda r: r.seq)
    prev = rows[3].hash
    for r in rows[4:]:
        forged = AuditRecord(
            chain=r.chain,
            seq=r.seq,
            occurred_at=r.occurred_at,
            actor="someone-else" if r.seq == 5 else r.actor,
            action=r.action,
            case_id=r.case_id,
            client=r.client,
            outcome=r.outcome,
            detail=r.detail,
            prev_hash=prev,
        )
        prev = chain.record_hash(forged)
        conn.execute(
            text("UPDATE audit_record SET actor = :a, prev_hash = :p, hash = :h WHERE id = :i"),
            {"a": forged.actor, "p": forged.prev_hash, "h": prev, "i": r.id},
        )
    conn.execute(text("UPDATE audit_chain_head SET hash = :h WHERE chain = 'alpha'"), {"h": prev})


def move_head_back(conn: Connection) -> None:
    conn.execute(
        text("UPDATE audit_chain_head SET seq = 40, hash = :h WHERE chain = 'alpha'"),
        {"h": hash_at(conn, "alpha", 40)},
    )


def delete_head(conn: Connection) -> None:
    conn.execute(text("DELETE FROM audit_chain_head WHERE chain = 'alpha'"))


TAMPERING: dict[str, tuple[Callable[[Connection], None], str]] = {
    # alpha: 70 records, checkpointed at 60 (line 1); beta: line 2; delta: line 3
    "truncate": (
        truncate,
        "chain 'alpha' at seq 21: records 21 to 60 removed: the checkpoint of",
    ),
    "delete a chain": (
        delete_chain,
        "chain 'beta' at seq 1: no audit records, but the checkpoint of",
    ),
    "delete a chain and its partnership": (
        delete_chain_and_partnership,
        "chain 'delta' at seq 1: no audit records, but the checkpoint of",
    ),
    "rewrite and rehash": (
        rewrite_and_rehash,
        "chain 'alpha' at seq 60: record 60 differs from the checkpoint of",
    ),
    "move the head back": (
        move_head_back,
        "chain 'alpha' at seq 71: chain ends at 70 but its head says 40",
    ),
    "delete the head": (delete_head, "chain 'alpha' at seq 71: chain ends at 70 but has no head"),
}


def _prepare(database: Database) -> None:
    database.write(
        lambda s: accounts.create_partnership(s, "delta", "Delta partnership", NOW, by=ADMIN)
    )
    fill_to(database, "alpha", 60)


@pytest.mark.parametrize("kind", list(TAMPERING))
def test_tampering_fails_verification_naming_the_first_problem(
    anchored: Anchored,
    world: World,
    database: Database,
    capsys: pytest.CaptureFixture[str],
    kind: str,
) -> None:
    _prepare(database)
    assert main(["audit", "checkpoint"]) == 0
    activity(database, "alpha", 10)  # after the checkpoint: 70
    assert verify(capsys) == (0, "ok: 5 chains verified against signed checkpoints")
    tamper, first_problem = TAMPERING[kind]
    with database.engine.begin() as conn:
        _without_triggers(conn, database.engine.dialect.name)
        tamper(conn)
    code, last = verify(capsys)
    assert code == 1
    assert last.startswith(f"FAILED: {first_problem}"), last
    # ...and the next checkpoint refuses to sign the tampered state
    before = anchored.checkpoint_file.read_text()
    assert main(["audit", "checkpoint"]) == 1
    assert (
        capsys.readouterr()
        .out.strip()
        .splitlines()[-1]
        .startswith(f"FAILED, nothing checkpointed: {first_problem}")
    )
    assert anchored.checkpoint_file.read_text() == before


def test_an_untouched_trail_verifies_and_checkpoints_only_what_moved(
    anchored: Anchored, world: World, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_to(database, "alpha", 30)
    assert main(["audit", "checkpoint"]) == 0
    assert (
        capsys.readouterr()
        .out.strip()
        .splitlines()[-1]
        .startswith("checkpointed 4 chains (0 unchanged)")
    )
    activity(database, "alpha", 3)
    code, _ = verify(capsys)
    assert code == 0
    assert main(["audit", "checkpoint"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].startswith("checkpointed 1 chains (3 unchanged)")
    assert '"chain":"alpha"' in out[0]  # the line written, printed again
    assert '"seq":33' in out[0]
    assert len(anchored.checkpoint_file.read_text().splitlines()) == 5
    assert verify(capsys, "--chain", "alpha") == (
        0,
        "ok: 1 chains verified against signed checkpoints",
    )


def test_a_break_below_the_checkpoint_stays_visible_after_the_next_one(
    anchored: Anchored, world: World, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """The checkpoint job recomputes a chain only from its last checkpoint on, so it
    may sign after an edit below it; the full verification still names the edit."""
    fill_to(database, "alpha", 60)
    assert main(["audit", "checkpoint"]) == 0
    with database.engine.begin() as conn:
        _without_triggers(conn, database.engine.dialect.name)
        conn.execute(text("UPDATE audit_record SET actor = 'x' WHERE chain = 'alpha' AND seq = 5"))
    activity(database, "alpha", 10)
    assert main(["audit", "checkpoint"]) == 0
    assert '"seq":70' in capsys.readouterr().out
    assert verify(capsys) == (
        1,
        "FAILED: chain 'alpha' at seq 5: content does not match its hash (edited)",
    )


def test_an_altered_checkpoint_file_fails(
    anchored: Anchored, world: World, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    fill_to(database, "alpha", 30)
    assert main(["audit", "checkpoint"]) == 0
    lines = anchored.checkpoint_file.read_text().splitlines()
    assert '"chain":"alpha"' in lines[0]
    lines[0] = lines[0].replace('"seq":30', '"seq":5')  # forged: allow cutting 6..30
    anchored.checkpoint_file.write_text("\n".join(lines) + "\n")
    code, last = verify(capsys)
    assert code == 1
    assert last.startswith(
        "FAILED: chain 'alpha' at seq 5: checkpoint line 1: its signature does not verify"
    )
    anchored.checkpoint_file.write_text("\n".join([*lines, "not a checkpoint"]) + "\n")
    assert verify(capsys)[1].startswith("FAILED: checkpoint file line 5 is not JSON")


def test_a_removed_chain_fails_even_without_checkpoints(
    cli_db: Settings, world: World, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify"]) == 0
    out = capsys.readouterr().out
    assert "warning: no checkpoint file is configured" in out
    assert "cannot be detected" in out
    with database.engine.begin() as conn:
        _without_triggers(conn, database.engine.dialect.name)
        delete_chain(conn)
    assert verify(capsys) == (
        1,
        "FAILED: chain 'beta' at seq 1: no audit records: the chain was removed",
    )


def test_configuration_errors_exit_2(
    anchored: Anchored, world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["audit", "verify"]) == 2  # configured, never checkpointed
    assert "does not exist" in capsys.readouterr().err
    assert main(["audit", "keygen", str(anchored.signing_key)]) == 2
    assert "not overwritten" in capsys.readouterr().err
    assert oct(anchored.signing_key.stat().st_mode & 0o777) == "0o600"
    other = anchored.signing_key.parent / "other.pem"
    assert main(["audit", "keygen", str(other)]) == 0
    anchored.checkpoint_file.write_text("")
    get_settings.cache_clear()
    with pytest.MonkeyPatch.context() as m:
        m.setenv("CASEREVIEW_AUDIT_VERIFY_KEY_FILE", f"{other}.pub")
        get_settings.cache_clear()
        assert main(["audit", "checkpoint"]) == 2
        assert "not the signing key's public key" in capsys.readouterr().err
    get_settings.cache_clear()


def test_the_verification_endpoint_reports_the_same_findings(
    anchored: Anchored, world: World, database: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    _prepare(database)
    assert main(["audit", "checkpoint"]) == 0
    activity(database, "alpha", 10)
    with TestClient(create_app(anchored.settings)) as c:
        admin = world.auth("alpha", "partnership_admin")
        body = c.get("/api/v1/audit/verification", headers=admin).json()
        assert (body["ok"], body["anchored"], body["note"]) == (True, True, None)
        assert [(x["chain"], x["checkpoint_seq"]) for x in body["chains"]] == [("alpha", 60)]
        with database.engine.begin() as conn:
            _without_triggers(conn, database.engine.dialect.name)
            truncate(conn)
        body = c.get("/api/v1/audit/verification", headers=admin).json()
        assert body["ok"] is False
        assert body["first_problem"].startswith(TAMPERING["truncate"][1])
        assert body["chains"][0]["first_broken_seq"] == 21
        anchored.checkpoint_file.unlink()
        body = c.get("/api/v1/audit/verification", headers=admin).json()
        assert body["ok"] is False
        assert body["problems"][0].startswith("checkpoints unavailable: the checkpoint file")
        assert str(anchored.checkpoint_file) not in str(body)  # no server paths
        denied = c.get("/api/v1/audit/verification", headers=world.auth("alpha", "viewer"))
        assert denied.status_code == 403
