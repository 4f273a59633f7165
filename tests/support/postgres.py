"""Throwaway PostgreSQL servers for the test suite.

Stdlib + psycopg 3 only, so it can be used from conftest files, benchmarks and scripts.

* :func:`find_pg_bindir` locates the server binaries (``initdb``, ``pg_ctl``, ``postgres``).
* :class:`ThrowawayCluster` runs ``initdb`` in a temporary directory and starts a private
  server on ``127.0.0.1`` and a free port; :meth:`ThrowawayCluster.stop` (also run at exit,
  and by a watchdog process if this process dies without running ``atexit``) removes it.
* :class:`ExistingServer` wraps a server you already run (``CASEREVIEW_TEST_PG_URL``).

Both share the :class:`PostgresServer` API: ``url(dbname)`` (a SQLAlchemy URL),
``conninfo(dbname)`` (for psycopg), ``connect()``, ``create_database(name, template=None)``
and ``drop_database(name)``.

When running as root (``initdb`` refuses root), the server runs as the ``postgres`` OS user
if it exists, else ``nobody``.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import quote, urlsplit, urlunsplit

import psycopg
from psycopg import sql

__all__ = [
    "BINDIR_ENV",
    "ClusterError",
    "ExistingServer",
    "PostgresServer",
    "PostgresUnavailable",
    "ThrowawayCluster",
    "find_pg_bindir",
]

BINDIR_ENV = "CASEREVIEW_PG_BINDIR"
SUPERUSER = "postgres"
_REQUIRED = ("initdb", "pg_ctl", "postgres")
_DEBIAN_ROOT = Path("/usr/lib/postgresql")
_LOG_TAIL_LINES = 40
_PORT_ATTEMPTS = 5
# libpq's limit on a unix socket path is 107 bytes; ".s.PGSQL.65535.lock" is the longest name.
_MAX_SOCKET_DIR = 107 - len("/.s.PGSQL.65535.lock")

DEFAULT_SETTINGS: Mapping[str, str] = {
    # Durability is worthless for a throwaway test cluster; speed is not.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "128MB",
}


class PostgresUnavailable(Exception):
    """No usable PostgreSQL server binaries on this machine."""


class ClusterError(RuntimeError):
    """A server command failed or timed out; the message carries the server log tail."""


# --------------------------------------------------------------------------- binaries


def _has_binaries(directory: Path) -> bool:
    return all(os.access(directory / name, os.X_OK) for name in _REQUIRED)


def _version_key(path: Path) -> tuple[int, ...]:
    # /usr/lib/postgresql/<major>/bin -> (major,) ; "9.6" -> (9, 6)
    return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))


def find_pg_bindir() -> Path | None:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``, or ``None``.

    Order: ``$CASEREVIEW_PG_BINDIR`` (an error if it lacks the binaries), the directory of
    ``pg_ctl`` on ``PATH`` (following a symlink if the binaries are not beside it), then the
    highest-versioned ``/usr/lib/postgresql/*/bin`` (Debian/Ubuntu, not on ``PATH``).
    """
    configured = os.environ.get(BINDIR_ENV)
    if configured:
        bindir = Path(configured).expanduser()
        if not _has_binaries(bindir):
            raise PostgresUnavailable(
                f"{BINDIR_ENV}={configured} does not contain all of {', '.join(_REQUIRED)}"
            )
        return bindir

    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is not None:
        for candidate in (Path(pg_ctl).parent, Path(pg_ctl).resolve().parent):
            if _has_binaries(candidate):
                return candidate

    candidates = [d for d in _DEBIAN_ROOT.glob("*/bin") if _has_binaries(d)]
    if candidates:
        return max(candidates, key=_version_key)
    return None


# --------------------------------------------------------------------------- common API


def _quote_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PostgresServer(ABC):
    """What tests need from a PostgreSQL server: URLs and throwaway databases."""

    admin_dbname = "postgres"

    @abstractmethod
    def url(self, dbname: str = "postgres") -> str:
        """SQLAlchemy URL (``postgresql+psycopg://...``) of database *dbname*."""

    @abstractmethod
    def conninfo(self, dbname: str = "postgres") -> str:
        """libpq connection string of database *dbname*, for psycopg."""

    @property
    @abstractmethod
    def description(self) -> str:
        """One human-readable line saying what server this is."""

    def connect(self, dbname: str | None = None, *, autocommit: bool = True) -> psycopg.Connection:
        return psycopg.connect(
            self.conninfo(dbname or self.admin_dbname), autocommit=autocommit, connect_timeout=10
        )

    @property
    def server_version(self) -> str:
        """E.g. ``"15.18 (Debian 15.18-0+deb12u1)"``."""
        with self.connect() as conn:
            row = conn.execute("SHOW server_version").fetchone()
        assert row is not None
        return str(row[0])

    @property
    def server_version_num(self) -> int:
        """E.g. ``150018``."""
        with self.connect() as conn:
            return conn.info.server_version

    def database_exists(self, name: str) -> bool:
        with self.connect() as conn:
            row = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        return row is not None

    def create_database(self, name: str, template: str | None = None) -> None:
        """``CREATE DATABASE name [TEMPLATE template]``.

        PostgreSQL refuses to copy a template that has other sessions connected: dispose of
        engines/pools on the template database first.
        """
        query = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
        if template is not None:
            query = sql.SQL("{} TEMPLATE {}").format(query, sql.Identifier(template))
        with self.connect() as conn:
            if template is not None:
                # The server itself would wait 5 s before giving up; say why at once.
                self._wait_until_unused(conn, template, timeout=1.0)
            try:
                conn.execute(query)
            except psycopg.errors.ObjectInUse as exc:
                raise ClusterError(f"cannot copy template database {template!r}: {exc}") from exc

    @staticmethod
    def _wait_until_unused(conn: psycopg.Connection, dbname: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            sessions = conn.execute(
                "SELECT pid, application_name, state FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (dbname,),
            ).fetchall()
            if not sessions:
                return
            if time.monotonic() > deadline:
                raise ClusterError(
                    f"cannot copy template database {dbname!r}: {len(sessions)} other "
                    f"session(s) connected to it (pid, application, state: {sessions}); "
                    "close them (e.g. engine.dispose()) first"
                )
            time.sleep(0.05)

    def drop_database(self, name: str) -> None:
        """Terminate every other session on *name*, then drop it (no error if missing)."""
        with self.connect() as conn:
            conn.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                " WHERE datname = %s AND pid <> pg_backend_pid()",
                (name,),
            )
            query = sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name))
            if conn.info.server_version >= 130000:
                # Also catches a session that connected after the terminate above.
                query = sql.SQL("{} WITH (FORCE)").format(query)
            conn.execute(query)


# --------------------------------------------------------------------------- existing server


class ExistingServer(PostgresServer):
    """A server that is already running, given by URL (e.g. ``$CASEREVIEW_TEST_PG_URL``).

    The URL may be a SQLAlchemy URL (``postgresql+psycopg://user:pw@host:port/db``) or a
    plain ``postgresql://`` URI; its database (default ``postgres``) is used for
    administrative commands and the role must be allowed to create databases.
    """

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        scheme, _, _driver = parts.scheme.partition("+")
        if scheme not in {"postgresql", "postgres"}:
            raise ValueError(f"not a PostgreSQL URL: {self._redact(url)}")
        self._parts = parts
        self.admin_dbname = parts.path.lstrip("/") or "postgres"

    @staticmethod
    def _redact(url: str) -> str:
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)

    def _with(self, scheme: str, dbname: str) -> str:
        return urlunsplit(self._parts._replace(scheme=scheme, path="/" + quote(dbname)))

    def url(self, dbname: str = "postgres") -> str:
        return self._with("postgresql+psycopg", dbname)

    def conninfo(self, dbname: str = "postgres") -> str:
        return self._with("postgresql", dbname)

    @property
    def description(self) -> str:
        return f"existing server {self._redact(self.url(self.admin_dbname))}"

    def start(self) -> Self:
        return self

    def stop(self) -> None:
        pass


# --------------------------------------------------------------------------- throwaway cluster


# Runs in its own session; if the test process dies without stopping the cluster (SIGKILL,
# os._exit, a segfault) its stdin reaches EOF and it kills the postmaster and removes the dir.
_WATCHDOG = r"""
import os, shutil, signal, sys, time
pid, base = int(sys.argv[1]), sys.argv[2]
signal.signal(signal.SIGINT, signal.SIG_IGN)
signal.signal(signal.SIGTERM, signal.SIG_IGN)
if sys.stdin.buffer.read(1):
    sys.exit(0)
if os.path.exists(os.path.join(base, "data", "postmaster.pid")):
    for sig in (signal.SIGQUIT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            break
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
shutil.rmtree(base, ignore_errors=True)
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _traversable_by(path: Path, uid: int, gid: int) -> bool:
    for directory in (path, *path.parents):
        st = os.stat(directory)
        mode = st.st_mode
        if st.st_uid == uid:
            ok = bool(mode & stat.S_IXUSR)
        elif st.st_gid == gid:
            ok = bool(mode & stat.S_IXGRP)
        else:
            ok = bool(mode & stat.S_IXOTH)
        if not ok:
            return False
    return True


class ThrowawayCluster(PostgresServer):
    """A private PostgreSQL cluster in a temporary directory, on 127.0.0.1 and a free port.

    Use as a context manager, or call :meth:`start` / :meth:`stop`. Superuser role
    ``postgres``, trust authentication, UTF8, locale C, durability off for speed.
    """

    def __init__(
        self,
        bindir: Path | str | None = None,
        *,
        settings: Mapping[str, str] | None = None,
        base_dir: Path | str | None = None,
        timeout: float = 60.0,
        watchdog: bool = True,
    ) -> None:
        found = Path(bindir) if bindir is not None else find_pg_bindir()
        if found is None:
            raise PostgresUnavailable(
                "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; install "
                f"them with `apt-get install postgresql` or set {BINDIR_ENV}"
            )
        self.bindir = found
        self.settings = {**DEFAULT_SETTINGS, **(settings or {})}
        self.timeout = timeout
        self._base_parent = Path(base_dir) if base_dir is not None else None
        self._use_watchdog = watchdog
        self._watchdog: subprocess.Popen[bytes] | None = None
        self._base: Path | None = None
        self._port: int | None = None
        self._owner_pid: int | None = None
        self.startup_seconds: float | None = None
        self.run_as, self._uid, self._gid, self._prefix = self._privileges()

    # -- public API -------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._port is not None

    @property
    def port(self) -> int:
        if self._port is None:
            raise ClusterError("cluster is not running")
        return self._port

    @property
    def base_dir(self) -> Path:
        if self._base is None:
            raise ClusterError("cluster has not been started")
        return self._base

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.base_dir / "sock"

    @property
    def log_path(self) -> Path:
        return self.base_dir / "server.log"

    @property
    def description(self) -> str:
        return f"throwaway cluster on 127.0.0.1:{self._port} ({self.bindir})"

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{quote(dbname)}"

    def conninfo(self, dbname: str = "postgres") -> str:
        return psycopg.conninfo.make_conninfo(
            host="127.0.0.1", port=self.port, user=SUPERUSER, dbname=dbname
        )

    def log_tail(self, lines: int = _LOG_TAIL_LINES) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except (OSError, ClusterError):
            return "(no server log)"
        return "\n".join(text.splitlines()[-lines:]) or "(server log is empty)"

    def start(self) -> Self:
        if self._base is not None:
            raise ClusterError("cluster already started")
        began = time.monotonic()
        self._base = self._make_base_dir()
        self._owner_pid = os.getpid()
        atexit.register(self.stop)
        try:
            self._initdb()
            self._start_server()
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def stop(self) -> None:
        """Stop the server (immediate mode) and remove the directory. Idempotent."""
        if self._owner_pid != os.getpid():
            return  # never from a forked child (atexit handlers are inherited by fork)
        atexit.unregister(self.stop)
        base, self._base, self._port = self._base, None, None
        if base is None:
            return
        try:
            if (base / "data" / "postmaster.pid").exists():
                self._stop_server(base)
        finally:
            shutil.rmtree(base, ignore_errors=True)
            self._dismiss_watchdog()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- internals --------------------------------------------------------------------

    @staticmethod
    def _privileges() -> tuple[str, int, int, list[str]]:
        """Who runs the server, and the command prefix that switches to them."""
        if os.geteuid() != 0:
            me = pwd.getpwuid(os.geteuid())
            return me.pw_name, me.pw_uid, me.pw_gid, []
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            user = pwd.getpwnam("nobody")
        setpriv, runuser = shutil.which("setpriv"), shutil.which("runuser")
        if setpriv:  # no PAM session, environment untouched
            prefix = [
                setpriv,
                f"--reuid={user.pw_uid}",
                f"--regid={user.pw_gid}",
                "--clear-groups",
                "--",
            ]
        elif runuser:
            prefix = [runuser, "-u", user.pw_name, "--"]
        else:
            raise PostgresUnavailable(
                "running as root, but neither setpriv nor runuser (util-linux) is available "
                "to start PostgreSQL as an unprivileged user"
            )
        return user.pw_name, user.pw_uid, user.pw_gid, prefix

    def _make_base_dir(self) -> Path:
        if self._base_parent is not None:
            parents = [self._base_parent]
        else:
            parents = list(dict.fromkeys([Path(tempfile.gettempdir()), Path("/tmp")]))
        for parent in parents:
            parent = parent.resolve()
            if len(str(parent)) + len("/caserev-pg-XXXXXXXX/sock") > _MAX_SOCKET_DIR:
                continue  # the unix socket path would be too long
            if not _traversable_by(parent, self._uid, self._gid):
                continue
            base = Path(tempfile.mkdtemp(prefix="caserev-pg-", dir=parent))
            if os.geteuid() == 0:
                os.chown(base, self._uid, self._gid)
            (base / "sock").mkdir()
            if os.geteuid() == 0:
                os.chown(base / "sock", self._uid, self._gid)
            return base
        raise ClusterError(
            f"no temporary directory in {', '.join(map(str, parents))} is traversable by "
            f"user {self.run_as!r} with a short enough unix socket path; pass base_dir="
        )

    def _env(self) -> dict[str, str]:
        # PG* variables (PGDATA, PGPORT, PGHOST, ...) would override what we ask for.
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")}
        env["LC_ALL"] = "C"
        return env

    def _run(self, *args: str, timeout: float | None = None) -> str:
        cmd = [*self._prefix, *args]
        try:
            proc = subprocess.run(
                cmd,
                cwd=self._base,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout or self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise self._error(f"timed out after {exc.timeout:.0f}s: {' '.join(cmd)}") from exc
        if proc.returncode != 0:
            output = (proc.stdout + proc.stderr).strip()
            raise self._error(f"exit status {proc.returncode}: {' '.join(cmd)}\n{output}")
        return proc.stdout

    def _error(self, message: str) -> ClusterError:
        return ClusterError(f"{message}\n--- server log tail ({self._base}) ---\n{self.log_tail()}")

    def _initdb(self) -> None:
        self._run(
            str(self.bindir / "initdb"),
            "--pgdata",
            str(self.data_dir),
            "--username",
            SUPERUSER,
            "--auth",
            "trust",
            "--encoding",
            "UTF8",
            "--locale",
            "C",
            "--no-sync",
        )
        conf = {
            **self.settings,
            "listen_addresses": _quote_literal("127.0.0.1"),
            "unix_socket_directories": _quote_literal(str(self.socket_dir)),
        }
        with (self.data_dir / "postgresql.conf").open("a") as fh:  # keeps owner/mode
            fh.write("\n# caserev throwaway test cluster\n")
            fh.writelines(f"{key} = {value}\n" for key, value in conf.items())

    def _start_server(self) -> None:
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = _free_port()
            try:
                self._run(
                    str(self.bindir / "pg_ctl"),
                    "start",
                    "--pgdata",
                    str(self.data_dir),
                    "--log",
                    str(self.log_path),
                    "--wait",
                    "--timeout",
                    str(int(self.timeout)),
                    "-o",
                    f"-p {port}",
                    timeout=self.timeout + 15,
                )
            except ClusterError as exc:
                lost_race = "could not bind" in str(exc) or "already in use" in str(exc)
                if lost_race and attempt < _PORT_ATTEMPTS:
                    self.log_path.unlink(missing_ok=True)
                    continue
                raise
            self._port = port
            break
        if self._use_watchdog:
            self._start_watchdog()

    def _postmaster_pid(self, base: Path) -> int | None:
        try:
            return int((base / "data" / "postmaster.pid").read_text().split("\n", 1)[0])
        except (OSError, ValueError):
            return None

    def _stop_server(self, base: Path) -> None:
        pid = self._postmaster_pid(base)
        try:
            subprocess.run(
                [
                    *self._prefix,
                    str(self.bindir / "pg_ctl"),
                    "stop",
                    "--pgdata",
                    str(base / "data"),
                    "--mode",
                    "immediate",
                    "--wait",
                    "--timeout",
                    "30",
                ],
                cwd=base,
                env=self._env(),
                stdin=subprocess.DEVNULL,
                capture_output=True,
                timeout=45,
                check=True,
            )
        except (subprocess.SubprocessError, OSError):
            if pid is not None:  # last resort, so no server outlives the run
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    os.kill(pid, signal.SIGKILL)

    def _start_watchdog(self) -> None:
        pid = self._postmaster_pid(self.base_dir)
        if pid is None:
            return
        self._watchdog = subprocess.Popen(
            [sys.executable, "-c", _WATCHDOG, str(pid), str(self.base_dir)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # survives a kill of our process group, then cleans up
        )

    def _dismiss_watchdog(self) -> None:
        watchdog, self._watchdog = self._watchdog, None
        if watchdog is None or watchdog.stdin is None:
            return
        with contextlib.suppress(OSError):
            watchdog.stdin.write(b"x")
            watchdog.stdin.close()
        try:
            watchdog.wait(timeout=10)
        except subprocess.TimeoutExpired:
            watchdog.kill()
            watchdog.wait()
