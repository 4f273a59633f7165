"""Verify the audit chains against the database and the signed checkpoints; take a
checkpoint.

Read the checkpoint file *before* the database snapshot: every checkpoint in it was
then taken from an earlier snapshot, so its seq is never beyond what the snapshot
holds, and a checkpoint written meanwhile cannot look like a removed tail.
"""

from __future__ import annotations

import fcntl
import os
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.audit import chain
from workflow.audit.checkpoint import (
    Checkpoint,
    CheckpointFile,
    CheckpointUnavailable,
    load_verify_key,
    parse,
    read,
    signed_line,
)
from workflow.storage.database import Database
from workflow.storage.models import AuditChainHead, AuditRecord

UNANCHORED = (
    "no checkpoint file is configured (CASEREVIEW_AUDIT_CHECKPOINT_FILE): a tail cut "
    "together with its head, a removed chain or records rewritten with recomputed hashes "
    "cannot be detected"
)


@dataclass(frozen=True)
class Anchor:
    """Where the checkpoints are and the key that verifies them (the settings
    CASEREVIEW_AUDIT_CHECKPOINT_FILE and CASEREVIEW_AUDIT_VERIFY_KEY_FILE)."""

    checkpoint_file: Path
    verify_key_file: Path | None

    def load(self) -> CheckpointFile:
        """Raises CheckpointUnavailable (a configuration problem)."""
        if self.verify_key_file is None:
            raise CheckpointUnavailable(
                "a checkpoint file is configured but no key to verify it "
                "(CASEREVIEW_AUDIT_VERIFY_KEY_FILE or CASEREVIEW_AUDIT_SIGNING_KEY_FILE)"
            )
        return read(self.checkpoint_file, load_verify_key(self.verify_key_file))


@dataclass(frozen=True)
class Verification:
    """Every chain's report, what is wrong with the checkpoint file as a whole, and
    whether the chains were compared with signed checkpoints at all."""

    chains: list[chain.ChainReport]
    problems: list[str]
    anchored: bool

    @property
    def ok(self) -> bool:
        return not self.problems and all(r.ok for r in self.chains)

    @property
    def note(self) -> str | None:
        return None if self.anchored or self.problems else UNANCHORED

    def first_problem(self) -> str | None:
        """The first thing found wrong, naming the chain and seq: checkpoint-file
        problems first (they weaken everything else), then chains by name."""
        if self.problems:
            return self.problems[0]
        for r in self.chains:
            if not r.ok:
                return f"chain {r.chain!r} at seq {r.first_broken_seq}: {r.problem}"
        return None


def _against(session: Session, report: chain.ChainReport, cp: Checkpoint) -> chain.ChainReport:
    """`report` (the chain checked on its own) compared with its strongest checkpoint."""
    report = replace(report, checkpoint_seq=cp.seq)
    signed = f"the checkpoint of {cp.at} (line {cp.line}) has seq {cp.seq}"
    if report.records == 0:
        problem, seq = f"no audit records, but {signed}: the chain was removed", 1
    elif not report.ok:
        return report  # the chain's own first broken link says more
    elif cp.problem:
        problem, seq = f"checkpoint line {cp.line}: {cp.problem}", cp.seq
    elif report.records < cp.seq:
        problem = (
            f"records {report.records + 1} to {cp.seq} removed: {signed}, "
            f"the chain ends at {report.records}"
        )
        seq = report.records + 1
    else:
        row = session.execute(
            select(AuditRecord.id, AuditRecord.hash).where(
                AuditRecord.chain == report.chain, AuditRecord.seq == cp.seq
            )
        ).one()
        if row.hash == cp.hash:
            return report
        return replace(
            report,
            ok=False,
            first_broken_seq=cp.seq,
            first_broken_id=row.id,
            problem=f"record {cp.seq} differs from the checkpoint of {cp.at} (line {cp.line}): "
            f"records up to {cp.seq} were rewritten",
        )
    return replace(report, ok=False, first_broken_seq=seq, first_broken_id=None, problem=problem)


def verify(
    session: Session,
    checkpoints: CheckpointFile | CheckpointUnavailable | None,
    only: list[str] | None = None,
    *,
    since_checkpoints: bool = False,
) -> Verification:
    """Each chain on its own (chain.verify_chain; every partnership must have one),
    then against its strongest checkpoint: chains named there must still exist and
    hold the signed record. `only`: just these chains (None: every chain there is or
    was checkpointed). `checkpoints`: None when none are configured, the error when
    they could not be read. `since_checkpoints`: recompute a checkpointed chain only
    from its checkpoint on (the checkpoint job; a full verification still finds a
    break below it, which no later checkpoint can hide). Run it on a snapshot
    (Database.read_snapshot)."""
    if checkpoints is None or isinstance(checkpoints, CheckpointUnavailable):
        names = only or chain.chains(session)
        problems = [] if checkpoints is None else [f"checkpoints unavailable: {checkpoints}"]
        return Verification([chain.verify_chain(session, n) for n in names], problems, False)
    latest = checkpoints.latest
    names = only or sorted(set(chain.chains(session)) | set(latest))
    reports = []
    for name in names:
        cp = latest.get(name)
        report = None
        if since_checkpoints and cp is not None and cp.problem is None:
            report = chain.verify_chain(session, name, since=cp.seq)
        if report is None or not report.ok:  # from the start, to name the first problem
            report = chain.verify_chain(session, name)
        reports.append(report if cp is None else _against(session, report, cp))
    return Verification(reports, list(checkpoints.problems), True)


@dataclass(frozen=True)
class CheckpointRun:
    """What `take_checkpoint` found and wrote (nothing when verification failed)."""

    verification: Verification
    written: list[str]
    unchanged: int


def take_checkpoint(
    database: Database, path: Path, key: Ed25519PrivateKey, now: datetime
) -> CheckpointRun:
    """Append a signed line for each chain whose head moved since its last checkpoint,
    after verifying every chain against the file: a tampered chain is never signed
    (that would hide the tampering from every later verification). The file is
    created if missing, locked while in use, and fsynced."""
    try:
        handle = path.open("a+", encoding="utf-8")
    except OSError as exc:
        raise CheckpointUnavailable(f"cannot open the checkpoint file {path}: {exc}") from exc
    with handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # two runs at once would both append
        handle.seek(0)
        existing = parse(handle.read(), key.public_key())

        def survey(s: Session) -> tuple[Verification, dict[str, tuple[int, str]]]:
            heads = {h.chain: (h.seq, h.hash) for h in s.scalars(select(AuditChainHead))}
            return verify(s, existing, since_checkpoints=True), heads

        verification, heads = database.read_snapshot(survey)
        if not verification.ok:
            return CheckpointRun(verification, [], 0)
        at = now.isoformat(timespec="seconds")
        lines = []
        for name, (seq, digest) in sorted(heads.items()):
            cp = existing.latest.get(name)
            if cp is None or (cp.seq, cp.hash) != (seq, digest):
                lines.append(signed_line(key, name, seq, digest, at))
        if lines:
            handle.write("".join(lines))
            handle.flush()
            os.fsync(handle.fileno())
        return CheckpointRun(verification, lines, len(heads) - len(lines))
