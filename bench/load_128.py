"""Load check at 128 concurrent connections (conventions.md: a sync route holding a
pooled Session once served nothing at 128 connections). Not a test: it starts the real
server on 127.0.0.1 (SQLite, a temporary data dir), creates a case, runs `wrk` for a
bounded time against a personal-data read (which also writes an audit record) and a
summary read, and prints requests/s, latency and errors. Needs `wrk` (apt-get install wrk).

    .venv/bin/python bench/load_128.py [--seconds 10] [--connections 128]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CLI = [sys.executable, "-m", "api.cli"]
INCIDENT = json.loads((ROOT / "bench" / "incident.json").read_text())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--connections", type=int, default=128)
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        print("wrk is not installed (apt-get install wrk)", file=sys.stderr)
        return 2
    data = Path(tempfile.mkdtemp(prefix="casereview-load-"))
    env = {
        **os.environ,
        "CASEREVIEW_DATA_DIR": str(data),
        "CASEREVIEW_DATABASE_URL": "",
        "CASEREVIEW_RATE_LIMIT_REQUESTS": "1000000000",  # on, counting, out of reach
    }
    subprocess.run([*CLI, "migrate"], env=env, cwd=ROOT, check=True, capture_output=True)
    out = subprocess.run(
        [*CLI, "setup"], env=env, cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    token = next(w for w in out.split() if w.startswith("crt_"))
    port = free_port()
    server = subprocess.Popen(
        [*CLI, "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    auth = {"Authorization": f"Bearer {token}"}
    try:
        for _ in range(100):
            try:
                if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        case = httpx.post(f"{base}/api/v1/incidents", json=INCIDENT, headers=auth).json()
        print(f"{'endpoint':40} {'req/s':>8} {'p50':>8} {'p99':>8} {'non-2xx':>8} {'errors':>7}")
        for label, path in (
            ("GET /cases/{id} (audited read)", f"/api/v1/cases/{case['id']}"),
            ("GET /cases (list)", "/api/v1/cases"),
            ("GET /healthz (no database)", "/healthz"),
        ):
            print(f"{label:40} " + run_wrk(base + path, token, args))
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(data, ignore_errors=True)
    return 0


def run_wrk(url: str, token: str, args: argparse.Namespace) -> str:
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{args.connections}",
            f"-d{args.seconds}s",
            "--latency",
            "-H",
            f"Authorization: Bearer {token}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=args.seconds + 30,
    )
    text = result.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p50 = re.search(r"50%\s+([\d.]+\w+)", text)
    p99 = re.search(r"99%\s+([\d.]+\w+)", text)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    return (
        f"{float(rps.group(1)) if rps else 0:8.0f} {p50.group(1) if p50 else '-':>8} "
        f"{p99.group(1) if p99 else '-':>8} {non2xx.group(1) if non2xx else '0':>8} "
        f"{'yes' if errors else 'none':>7}"
    )


if __name__ == "__main__":
    sys.exit(main())
