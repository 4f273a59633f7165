"""A loopback TCP proxy the tests control, to put faults between the app and its database.

    with TcpProxy("127.0.0.1", pg_port) as proxy:   # listens on 127.0.0.1:proxy.port
        proxy.cut()            # reset every open connection (new ones still forwarded)
        proxy.refuse()         # reset every new connection at once
        proxy.stall()          # accept new connections but never forward a byte
        proxy.latency = 0.2    # delay every chunk, both directions, by 0.2 s
        proxy.heal()           # forward normally again (latency 0)

Threads and blocking sockets only (stdlib); a reset is a close with SO_LINGER 0, so
the peer sees ECONNRESET at once, as when a server or a firewall drops it.
"""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
import time
from types import TracebackType
from typing import Self

FORWARD, REFUSE, STALL = "forward", "refuse", "stall"
_CHUNK = 65536


def _reset(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    with contextlib.suppress(OSError):
        sock.close()


class TcpProxy:
    """Forward 127.0.0.1:<port> to (host, port); faults switched on and off at will."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = FORWARD
        self.latency = 0.0
        self.accepted = 0
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(256)
        self.port: int = self._listener.getsockname()[1]
        self._closed = False
        self._thread = threading.Thread(target=self._accept_loop, daemon=True)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, _t: type[BaseException] | None, _e: BaseException | None, _tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> Self:
        self._thread.start()
        return self

    # -- faults ------------------------------------------------------------------------

    def cut(self) -> None:
        """Reset every connection open now; later ones follow the current mode."""
        with self._lock:
            doomed, self._open = self._open, set()
        for sock in doomed:
            _reset(sock)

    def refuse(self) -> None:
        self.mode = REFUSE

    def stall(self) -> None:
        self.mode = STALL

    def heal(self) -> None:
        self.mode = FORWARD
        self.latency = 0.0

    def close(self) -> None:
        self._closed = True
        _reset(self._listener)
        self.cut()
        self._thread.join(timeout=5)

    # -- plumbing ----------------------------------------------------------------------

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.update(socks)

    def _accept_loop(self) -> None:
        while not self._closed:
            try:
                client, _addr = self._listener.accept()
            except OSError:
                return
            self.accepted += 1
            if self.mode == REFUSE:
                _reset(client)
            elif self.mode == STALL:
                self._track(client)  # held open, never answered, reset by cut()
            else:
                threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        try:
            upstream = socket.create_connection(self.target, timeout=10)
            upstream.settimeout(None)
        except OSError:
            _reset(client)
            return
        self._track(client, upstream)
        for src, dst in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(_CHUNK)
                if not data:
                    break
                if self.latency:
                    time.sleep(self.latency)
                dst.sendall(data)
        except OSError:
            pass
        with self._lock:
            self._open.discard(src)
            self._open.discard(dst)
        _reset(src)
        _reset(dst)
