"""`casereview audit verify | checkpoint | keygen`: the audit trail and its signed
checkpoints (docs/audit.md). Exit codes: 0 verified, 1 tampering found (the first
problem is the last line on stdout, naming the chain and seq), 2 a usage or
configuration error (on stderr)."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

from config.settings import get_settings
from workflow.audit import checkpoint
from workflow.audit.verification import Verification, take_checkpoint, verify
from workflow.runtime import audit_anchor, open_database

OK, TAMPERED, CONFIG = 0, 1, 2


def _config_error(command: str, exc: Exception) -> int:
    print(f"casereview audit {command}: {exc}", file=sys.stderr)
    return CONFIG


def _print_report(result: Verification) -> None:
    for r in result.chains:
        if r.ok:
            anchor = f" (checkpoint at seq {r.checkpoint_seq})" if r.checkpoint_seq else ""
            status = "ok" + (anchor if result.anchored else "")
            if r.records == 0:
                status += " (no records)"
            elif result.anchored and r.checkpoint_seq is None:
                status += " (no checkpoint yet)"
        else:
            status = f"BROKEN: first broken link at seq {r.first_broken_seq} - {r.problem}"
        print(f"{r.chain:20} {r.records:8} records  {status}")
    for problem in result.problems:
        print(f"checkpoint file: {problem}")
    if result.note:
        print(f"warning: {result.note}")


def cmd_audit_verify(args: argparse.Namespace) -> int:
    settings = get_settings()
    anchor = audit_anchor(settings)
    try:
        checkpoints = anchor.load() if anchor else None  # before the snapshot (verification.py)
    except checkpoint.CheckpointUnavailable as exc:
        return _config_error("verify", exc)
    db = open_database(settings)
    try:
        result = db.read_snapshot(lambda s: verify(s, checkpoints, only=args.chain or None))
    finally:
        db.dispose()
    _print_report(result)
    first = result.first_problem()
    if first is None:
        against = " against signed checkpoints" if result.anchored else ""
        print(f"ok: {len(result.chains)} chains verified{against}")
        return OK
    problems = len(result.problems) + sum(1 for r in result.chains if not r.ok)
    more = f" ({problems - 1} more above)" if problems > 1 else ""
    print(f"FAILED: {first}{more}")
    return TAMPERED


def cmd_audit_checkpoint(_args: argparse.Namespace) -> int:
    settings = get_settings()
    path, key_file = settings.audit_checkpoint_file, settings.audit_signing_key_file
    if path is None or key_file is None:
        return _config_error(
            "checkpoint",
            ValueError(
                "set CASEREVIEW_AUDIT_CHECKPOINT_FILE and CASEREVIEW_AUDIT_SIGNING_KEY_FILE"
            ),
        )
    try:
        key = checkpoint.load_signing_key(key_file)
        if settings.audit_verify_key_file is not None:
            verify_key = checkpoint.load_verify_key(settings.audit_verify_key_file)
            if checkpoint.key_id(verify_key) != checkpoint.key_id(key.public_key()):
                raise checkpoint.CheckpointUnavailable(
                    "CASEREVIEW_AUDIT_VERIFY_KEY_FILE is not the signing key's public key"
                )
        db = open_database(settings)
        try:
            run = take_checkpoint(db, path, key, datetime.now(UTC))
        finally:
            db.dispose()
    except checkpoint.CheckpointUnavailable as exc:
        return _config_error("checkpoint", exc)
    if not run.verification.ok:
        _print_report(run.verification)
        print(f"FAILED, nothing checkpointed: {run.verification.first_problem()}")
        return TAMPERED
    for line in run.written:  # a second copy, for cron's mail or the journal
        print(line, end="")
    print(f"checkpointed {len(run.written)} chains ({run.unchanged} unchanged) in {path}")
    return OK


def _write_new(path: Path, data: bytes, mode: int) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


def cmd_audit_keygen(args: argparse.Namespace) -> int:
    private_path = Path(args.path)
    public_path = Path(args.public or f"{args.path}.pub")
    private, public = checkpoint.generate_key_pair()
    try:
        _write_new(private_path, private, 0o600)
        _write_new(public_path, public, 0o644)
    except FileExistsError as exc:
        return _config_error("keygen", ValueError(f"{exc.filename} exists; not overwritten"))
    except OSError as exc:
        return _config_error("keygen", exc)
    key_id = checkpoint.key_id(checkpoint.load_verify_key(public_path))
    print(f"signing key {private_path} (keep it off the database host), key id {key_id}")
    print(f"public key  {public_path} (for the API and `audit verify`)")
    print(f"CASEREVIEW_AUDIT_SIGNING_KEY_FILE={private_path}")
    print(f"CASEREVIEW_AUDIT_VERIFY_KEY_FILE={public_path}")
    return OK


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit = sub.add_parser("audit", help="the audit trail").add_subparsers(
        dest="action", required=True
    )
    p = audit.add_parser(
        "verify",
        help="recompute every hash chain and compare it with the signed checkpoints; "
        "exit 1 and the first problem if tampered, 2 on a configuration error",
    )
    p.add_argument("--chain", action="append", help="only this chain (partnership code)")
    p.set_defaults(func=cmd_audit_verify)
    p = audit.add_parser(
        "checkpoint",
        help="verify, then append a signed checkpoint of each chain that moved to "
        "CASEREVIEW_AUDIT_CHECKPOINT_FILE (from cron); exit 1 and nothing signed if tampered",
    )
    p.set_defaults(func=cmd_audit_checkpoint)
    p = audit.add_parser("keygen", help="create an Ed25519 key pair for signing checkpoints")
    p.add_argument("path", help="where to write the private (signing) key; never overwritten")
    p.add_argument("--public", help="where to write the public key (default: PATH.pub)")
    p.set_defaults(func=cmd_audit_keygen)
