"""docs/walkthrough.sh says what went wrong instead of failing silently (curl -f)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port  # closed again: nothing listens there


def test_a_wrong_port_fails_with_a_message_naming_the_fix() -> None:
    api = f"http://127.0.0.1:{_closed_port()}/api/v1"
    result = subprocess.run(
        ["bash", str(ROOT / "docs" / "walkthrough.sh")],
        env={**os.environ, "API": api, "TOKEN": "crt_wrong"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert f"cannot reach {api}" in result.stderr
    assert "API=http://HOST:PORT/api/v1" in result.stderr
    assert result.stdout == ""  # no step ran
