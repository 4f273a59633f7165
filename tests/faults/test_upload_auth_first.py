"""An unauthenticated 24 MB upload through a real `casereview serve`, on raw sockets:
the 401 comes before the body. With `Expect: 100-continue` the server never invites
the body (uvicorn sends 100 Continue only when the app first reads it); without, the
401 arrives while the client is still sending. (In-process, byte for byte, and for
403/404: tests/api/test_upload_safety.py.)"""

from __future__ import annotations

import select
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chaos.server import ServerProcess

TOTAL = 24_000_000


def _start(port: int, expect: bool) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST /api/v1/cases/{uuid.uuid4()}/documents HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Content-Type: multipart/form-data; boundary=B\r\nContent-Length: {TOTAL}\r\n"
    )
    head += "Expect: 100-continue\r\n\r\n" if expect else "\r\n"
    sock.sendall(head.encode())
    return sock


def _status_line(sock: socket.socket) -> bytes:
    sock.setblocking(True)
    sock.settimeout(30)
    data = b""
    while b"\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


@pytest.fixture
def server(db_url: str, tmp_path: Path) -> Iterator[ServerProcess]:
    with ServerProcess(db_url, tmp_path) as running:
        yield running


def test_an_unauthenticated_upload_is_refused_before_its_body_is_sent(
    server: ServerProcess,
) -> None:
    with _start(server.port, expect=True) as sock:
        assert _status_line(sock).startswith(b"HTTP/1.1 401")  # not "100 Continue"

    with _start(server.port, expect=False) as sock:
        sock.setblocking(False)
        sent, chunk, deadline = 0, b"m" * 65536, time.monotonic() + 60
        while sent < TOTAL and time.monotonic() < deadline:
            readable, writable, _ = select.select([sock], [sock], [], 1)
            if readable:
                break  # the answer is here
            if writable:
                try:
                    sent += sock.send(chunk[: TOTAL - sent])
                except BlockingIOError:
                    continue
        assert _status_line(sock).startswith(b"HTTP/1.1 401")
        assert sent < TOTAL // 4, f"{sent} of {TOTAL} bytes sent before the 401"
