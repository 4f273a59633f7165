"""The README's walk-through, run with curl against a real server (uvicorn on loopback)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-m", "api.cli"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[tuple[str, str]]:
    """`casereview serve` on a free loopback port, on SQLite and on PostgreSQL."""
    env = {**os.environ, "CASEREVIEW_DATA_DIR": str(tmp_path), "CASEREVIEW_DATABASE_URL": db_url}
    subprocess.run([*CLI, "migrate"], env=env, check=True, cwd=ROOT, capture_output=True)
    setup = subprocess.run(
        [*CLI, "setup"], env=env, check=True, cwd=ROOT, capture_output=True, text=True
    )
    token = next(w for w in setup.stdout.split() if w.startswith("crt_"))
    port = _free_port()
    proc = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("server did not become ready")
        yield base, token
    finally:
        proc.terminate()
        proc.wait(timeout=10)


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
def test_readme_walkthrough_drives_a_case_to_closure(server: tuple[str, str]) -> None:
    base, token = server
    result = subprocess.run(
        ["bash", str(ROOT / "docs" / "walkthrough.sh")],
        cwd=ROOT,
        env={**os.environ, "API": f"{base}/api/v1", "TOKEN": token},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].endswith("notification_due")
    assert "closure -> closed (version 14)" in lines
    assert any(line.startswith("actions/") and "sign-off" in line for line in lines)
    assert "panel_notification met 2025-03-10 True" in lines
    assert lines[-1] == "closed"
    no_token = httpx.get(f"{base}/api/v1/cases")
    assert no_token.status_code == 401
    wrong = subprocess.run(
        ["bash", str(ROOT / "docs" / "walkthrough.sh")],
        cwd=ROOT,
        env={**os.environ, "API": f"{base}/api/v1", "TOKEN": "crt_not_a_token"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrong.returncode != 0
    assert "refused TOKEN (401)" in wrong.stderr
    assert "casereview tokens create" in wrong.stderr
