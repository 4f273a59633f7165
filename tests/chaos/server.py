"""`casereview serve` as a child process group on 127.0.0.1, for tests and the chaos run.

Stdlib + httpx only, so `python -m tests.chaos.ledger` can use it outside pytest.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Self

import httpx

REPO_ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """`casereview serve --workers N` in a process group of its own (so SIGKILL reaches
    the supervisor and every worker at once)."""

    def __init__(
        self, database_url: str, data_dir: Path, *, workers: int = 1, port: int | None = None
    ) -> None:
        self.port = port or free_port()
        self.workers = workers
        self.log_path = data_dir / f"serve-{self.port}.log"
        self.env = {
            **os.environ,
            "CASEREVIEW_DATABASE_URL": database_url,
            "CASEREVIEW_DATA_DIR": str(data_dir),
            "CASEREVIEW_LOG_LEVEL": "WARNING",
            # Every client shares one token and sends as fast as it can: the rate
            # limits stay on but out of reach (this tests crashes, not throttling).
            "CASEREVIEW_RATE_LIMIT_REQUESTS": "1000000000",
        }
        self.proc: subprocess.Popen[bytes] | None = None
        self.kills = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self, ready_timeout: float = 60.0) -> Self:
        cmd = [sys.executable, "-m", "api.cli", "serve", "--host", "127.0.0.1"]
        cmd += ["--port", str(self.port), "--workers", str(self.workers)]
        with self.log_path.open("ab") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self._wait_ready(ready_timeout)
        return self

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early; log: {self.log_tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.base_url}/readyz", timeout=2).status_code == 200:
                    return
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server not ready after {timeout}s; log: {self.log_tail()}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def kill(self) -> None:
        """SIGKILL the whole process group: no shutdown, no cleanup, like a power cut."""
        self._signal(signal.SIGKILL)
        self.kills += 1

    def stop(self) -> None:
        self._signal(signal.SIGTERM, grace=15)

    def _signal(self, sig: int, grace: float = 10) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        # workers of the group may outlive the supervisor for a moment
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.05)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
