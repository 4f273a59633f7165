"""Starting and stopping what a benchmark needs, and driving `wrk`.

Everything started here is stopped by the caller's `with` block (servers) or by
`ThrowawayCluster.stop` (PostgreSQL); nothing binds anything but 127.0.0.1.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import httpx

ROOT = Path(__file__).resolve().parents[1]
LUA = Path(__file__).resolve().parent / "lua"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# wrk sends thousands of requests a second with one token: the rate limits stay on
# (their cost is measured) but out of reach, else the bench would measure 429s.
UNREACHED_RATE_LIMITS = {
    "CASEREVIEW_RATE_LIMIT_REQUESTS": "1000000000",
    "CASEREVIEW_RATE_LIMIT_AUTH_FAILURES": "1000000000",
}


def product_env(url: str, data_dir: Path) -> dict[str, str]:
    """The production settings of `casereview serve`, on the bench database."""
    return {
        **os.environ,
        "CASEREVIEW_DATABASE_URL": url,
        "CASEREVIEW_DATA_DIR": str(data_dir),
        "CASEREVIEW_DOCS_ENABLED": "false",
        "CASEREVIEW_LOG_LEVEL": "WARNING",
        **UNREACHED_RATE_LIMITS,
    }


class Server:
    """A uvicorn server in a subprocess on a free loopback port: the product
    (`casereview serve`, one worker) or the bench-only baseline app, same settings."""

    def __init__(self, kind: str, env: dict[str, str]) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        if kind == "product":
            cmd = [sys.executable, "-m", "api.cli", "serve", "--port", str(self.port)]
            ready = "/readyz"
        else:
            cmd = [
                *(sys.executable, "-m", "uvicorn", "bench.baseline_app:create_app"),
                *("--factory", "--host", "127.0.0.1", "--port", str(self.port)),
                *("--no-access-log", "--log-level", "warning", "--workers", "1"),
            ]
            ready = "/bare"
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 - closed by stop()
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=self.log
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                break
            try:
                if httpx.get(self.base + ready, timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        self.log.seek(0)
        raise RuntimeError(f"{kind} server did not start:\n{self.log.read().decode()[-3000:]}")

    def rss_mib(self) -> float:
        """Resident memory of the worker process (one worker: the process itself)."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text()
        found = re.search(r"VmRSS:\s+(\d+) kB", status)
        return int(found.group(1)) / 1024 if found else float("nan")

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def settle(self, quiet_seconds: float = 0.2, limit_seconds: float = 15.0) -> None:
        """Wait until the server has used no CPU for `quiet_seconds`: requests a wrk run
        left in flight when it stopped are finished before the next measurement starts
        (and their CPU is charged to the run that sent them, not to the next one)."""
        deadline = time.monotonic() + limit_seconds
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            time.sleep(quiet_seconds)
            now = self.cpu_seconds()
            if now == last:
                return
            last = now

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx/3xx responses
    errors: int  # socket errors (connect, read, write, timeout)
    cpu_ms: float = float("nan")  # server CPU per request (user + system)

    def brief(self) -> str:
        return (
            f"{self.rps:.0f} req/s, p50 {self.p50_ms:.1f} ms, p99 {self.p99_ms:.1f} ms, "
            f"{self.bad} bad, {self.errors} errors"
        )


def _ms(text: str | None) -> float:
    if not text:
        return float("nan")
    value, unit = re.match(r"([\d.]+)(\w+)", text).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def wrk(
    url: str,
    *,
    seconds: float,
    connections: int,
    threads: int = 2,
    headers: dict[str, str] | None = None,
    script: str | None = None,
    script_env: dict[str, str] | None = None,
    server: Server | None = None,
) -> WrkResult:
    """Run wrk for a bounded time; parse throughput, latency and failures (and the
    server's CPU per request when `server` is given)."""
    cmd = [
        "wrk",
        f"-t{min(threads, connections)}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "5s",
        "--latency",
    ]
    for name, value in (headers or {}).items():
        cmd += ["-H", f"{name}: {value}"]
    if script:
        cmd += ["-s", str(LUA / script)]
    if server:
        server.settle()
    cpu_before = server.cpu_seconds() if server else 0.0
    out = subprocess.run(
        [*cmd, url],
        capture_output=True,
        text=True,
        timeout=seconds + 60,
        env={**os.environ, **(script_env or {})},
        check=False,
    ).stdout
    if server:
        server.settle()
    cpu = server.cpu_seconds() - cpu_before if server else float("nan")

    def find(pattern: str) -> str | None:
        m = re.search(pattern, out)
        return m.group(1) if m else None

    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    requests = int(find(r"(\d+) requests in") or 0)
    return WrkResult(
        cpu_ms=cpu * 1000 / requests if requests else float("nan"),
        rps=float(find(r"Requests/sec:\s+([\d.]+)") or 0),
        p50_ms=_ms(find(r"\s50%\s+([\d.]+\w+)")),
        p99_ms=_ms(find(r"\s99%\s+([\d.]+\w+)")),
        requests=requests,
        bad=int(find(r"Non-2xx or 3xx responses: (\d+)") or 0),
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def require_wrk() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit(
            "wrk is not installed: `apt-get install wrk` (make bench does it when run as root)"
        )


def interleaved(
    runs: dict[str, Callable[[float], WrkResult]], seconds: float
) -> dict[str, WrkResult]:
    """Run each measurement in three slices, round-robin, so that load elsewhere on the
    machine weighs on all alike; returns each one pooled over its slices."""
    slices = 3 if seconds >= 3 else 1
    out: dict[str, list[WrkResult]] = {k: [] for k in runs}
    for _ in range(slices):
        for name, run in runs.items():
            out[name].append(run(seconds / slices))
    return {name: pool(results) for name, results in out.items()}


def pool(results: list[WrkResult]) -> WrkResult:
    n = len(results)
    mid = sorted(results, key=lambda r: r.p99_ms)[n // 2]
    requests = sum(r.requests for r in results)
    cpu = sum(r.cpu_ms * r.requests for r in results if r.requests and r.cpu_ms == r.cpu_ms)
    return WrkResult(
        rps=sum(r.rps for r in results) / n,
        p50_ms=mid.p50_ms,
        p99_ms=mid.p99_ms,
        requests=requests,
        bad=sum(r.bad for r in results),
        errors=sum(r.errors for r in results),
        cpu_ms=cpu / requests if requests else float("nan"),
    )
