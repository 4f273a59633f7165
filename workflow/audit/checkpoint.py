"""Signed checkpoints of the audit chains, kept outside the database they protect.

The hash chain (chain.py) is checked against the database alone, so whoever can
write the database can cut a chain's tail together with its head row, remove a
chain, or rewrite records and recompute every later hash, and it still verifies.
A checkpoint is one line of a file that is not in the database,

    {"at": "...", "chain": "alpha", "hash": "<hash of record seq>", "key": "<key id>",
     "seq": 57, "sig": "<Ed25519 signature>", "v": 1}

signed with a key that is not in the database either. Each record's hash covers the
previous record's, so (seq, hash) pins records 1..seq: the record at `seq` must
still exist with that hash (verification.py). Only the public key is needed to
verify, so the API process cannot forge a checkpoint. What this promises and what
it cannot: docs/audit.md.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1
# Signed bytes are this tag + the canonical JSON of the line without "sig", so a
# checkpoint signature can never be taken for a signature of anything else.
_TAG = b"casereview-audit-checkpoint-v1\n"
_FIELDS = {"v", "chain", "seq", "hash", "at", "key", "sig"}


class CheckpointUnavailable(Exception):
    """The checkpoint file or a key cannot be read or is not configured: a
    configuration problem (`casereview audit verify` exits 2), not tampering."""


def _canonical(fields: Mapping[str, Any]) -> bytes:
    return json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def key_id(public_key: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key, written in each line: SHA-256 of its raw
    bytes, first 16 hex digits."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_key_pair() -> tuple[bytes, bytes]:
    """A new signing key and its public key, both PEM (PKCS#8 / SubjectPublicKeyInfo),
    the same files `openssl genpkey -algorithm ed25519` and `openssl pkey -pubout` make."""
    private = Ed25519PrivateKey.generate()
    return (
        private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ),
        private.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
    )


def _read_pem(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CheckpointUnavailable(f"cannot read the {what} {path}: {exc.strerror}") from exc


def load_signing_key(path: Path) -> Ed25519PrivateKey:
    try:
        key = serialization.load_pem_private_key(_read_pem(path, "signing key"), password=None)
    except (ValueError, TypeError) as exc:
        raise CheckpointUnavailable(f"{path} is not an unencrypted PEM private key") from exc
    if not isinstance(key, Ed25519PrivateKey):
        raise CheckpointUnavailable(f"{path} is not an Ed25519 key")
    return key


def load_verify_key(path: Path) -> Ed25519PublicKey:
    """The public key in `path`, or the public half of the private key in it."""
    data = _read_pem(path, "verification key")
    if b"PRIVATE KEY" in data:
        return load_signing_key(path).public_key()
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise CheckpointUnavailable(f"{path} is not a PEM public key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise CheckpointUnavailable(f"{path} is not an Ed25519 key")
    return key


def signed_line(key: Ed25519PrivateKey, chain: str, seq: int, hash_: str, at: str) -> str:
    """One checkpoint line (with its newline) pinning record `seq` of `chain`."""
    fields: dict[str, Any] = {
        "v": VERSION,
        "chain": chain,
        "seq": seq,
        "hash": hash_,
        "at": at,
        "key": key_id(key.public_key()),
    }
    signature = key.sign(_TAG + _canonical(fields))
    fields["sig"] = base64.b64encode(signature).decode()
    return json.dumps(fields, sort_keys=True, separators=(",", ":")) + "\n"


@dataclass(frozen=True)
class Checkpoint:
    """A parsed line; `problem` says why it cannot be trusted (None: signature valid)."""

    line: int
    chain: str
    seq: int
    hash: str
    at: str
    problem: str | None = None


@dataclass
class CheckpointFile:
    """The strongest checkpoint of each chain (the highest seq, so lines moved or
    repeated cannot weaken it), and the lines that are not checkpoints at all."""

    latest: dict[str, Checkpoint] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    lines: int = 0


def _parse(number: int, text: str) -> Checkpoint | str:
    try:
        fields = json.loads(text)
    except ValueError:
        return f"checkpoint file line {number} is not JSON"
    if (
        not isinstance(fields, dict)
        or set(fields) != _FIELDS
        or fields["v"] != VERSION
        or not isinstance(fields["chain"], str)
        or not isinstance(fields["seq"], int)
        or isinstance(fields["seq"], bool)
        or fields["seq"] < 1
        or not all(isinstance(fields[k], str) for k in ("hash", "at", "key", "sig"))
    ):
        return f"checkpoint file line {number} is not a checkpoint"
    return Checkpoint(number, fields["chain"], fields["seq"], fields["hash"], fields["at"])


def _check_signature(text: str, found: Checkpoint, public_key: Ed25519PublicKey) -> Checkpoint:
    fields = json.loads(text)
    expected = key_id(public_key)
    problem = None
    if fields["key"] != expected:
        problem = f"signed by key {fields['key']}, not by the configured key {expected}"
    else:
        try:
            public_key.verify(base64.b64decode(fields.pop("sig")), _TAG + _canonical(fields))
        except (InvalidSignature, ValueError):
            problem = "its signature does not verify (the checkpoint file was altered)"
    return Checkpoint(found.line, found.chain, found.seq, found.hash, found.at, problem)


def parse(content: str, public_key: Ed25519PublicKey) -> CheckpointFile:
    """Every line of a checkpoint file. Signatures are checked for the lines kept
    (one per chain), which is what verification relies on; a forged line that would
    be kept is therefore always caught."""
    result = CheckpointFile()
    texts: dict[str, str] = {}
    for number, text in enumerate(content.splitlines(), start=1):
        result.lines = number
        if not text.strip():
            continue
        found = _parse(number, text)
        if isinstance(found, str):
            result.problems.append(found)
            continue
        kept = result.latest.get(found.chain)
        if kept is None or found.seq >= kept.seq:
            result.latest[found.chain], texts[found.chain] = found, text
    for name, found in result.latest.items():
        result.latest[name] = _check_signature(texts[name], found, public_key)
    return result


def read(path: Path, public_key: Ed25519PublicKey) -> CheckpointFile:
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise CheckpointUnavailable(
            f"the checkpoint file {path} does not exist (`casereview audit checkpoint` creates it)"
        ) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise CheckpointUnavailable(f"cannot read the checkpoint file {path}: {exc}") from exc
    return parse(content, public_key)
