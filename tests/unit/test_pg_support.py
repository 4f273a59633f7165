"""The throwaway PostgreSQL support itself, against the real server binaries."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

import psycopg
import pytest

from tests.support import postgres
from tests.support.postgres import (
    ClusterError,
    ExistingServer,
    PostgresServer,
    PostgresUnavailable,
    ThrowawayCluster,
    find_pg_bindir,
)

pytestmark = pytest.mark.postgres


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(1)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _postmaster_alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "State:\tZ" not in status  # a zombie has exited; init reaps it later


@pytest.fixture(scope="module")
def bindir() -> Path:
    found = find_pg_bindir()
    if found is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    return found


@pytest.fixture(scope="module")
def cluster(bindir: Path) -> Iterator[ThrowawayCluster]:
    """A cluster of this module's own, so stopping it can be checked."""
    with ThrowawayCluster(bindir) as started:
        yield started


def test_find_pg_bindir_has_the_server_binaries(bindir: Path) -> None:
    for name in ("initdb", "pg_ctl", "postgres"):
        assert os.access(bindir / name, os.X_OK)


def test_find_pg_bindir_honours_env(bindir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(postgres.BINDIR_ENV, str(bindir))
    assert find_pg_bindir() == bindir


def test_find_pg_bindir_rejects_a_wrong_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(postgres.BINDIR_ENV, str(tmp_path))
    with pytest.raises(PostgresUnavailable, match="does not contain"):
        find_pg_bindir()


def test_find_pg_bindir_falls_back_to_debian_layout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for major in ("9.6", "13", "15", "16"):
        bin_dir = tmp_path / major / "bin"
        bin_dir.mkdir(parents=True)
        names = ("initdb", "pg_ctl") if major == "16" else ("initdb", "pg_ctl", "postgres")
        for name in names:  # 16 is incomplete (client only): must be passed over
            (bin_dir / name).touch(mode=0o755)
    monkeypatch.delenv(postgres.BINDIR_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setattr(postgres, "_DEBIAN_ROOT", tmp_path)
    assert find_pg_bindir() == tmp_path / "15" / "bin"


def test_cluster_answers_select_1(cluster: ThrowawayCluster) -> None:
    assert cluster.url("x") == f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/x"
    with psycopg.connect(cluster.conninfo("postgres")) as conn:
        assert conn.execute("select 1").fetchone() == (1,)
        row = conn.execute("show server_encoding").fetchone()
        assert row == ("UTF8",)
        assert conn.execute("show fsync").fetchone() == ("off",)
        assert conn.execute("show max_connections").fetchone() == ("200",)
    assert cluster.server_version_num >= 100000


def test_cluster_runs_unprivileged(cluster: ThrowawayCluster) -> None:
    with cluster.connect() as conn:
        row = conn.execute("select current_user").fetchone()
    assert row == ("postgres",)
    if os.geteuid() == 0:
        assert cluster.run_as != "root"
        assert cluster.data_dir.stat().st_uid != 0


def test_create_connect_and_drop_database(cluster: ThrowawayCluster) -> None:
    cluster.create_database("casereview_t1")
    assert cluster.database_exists("casereview_t1")
    with psycopg.connect(cluster.url("casereview_t1").replace("+psycopg", "")) as conn:
        assert conn.execute("select current_database()").fetchone() == ("casereview_t1",)
    cluster.drop_database("casereview_t1")
    assert not cluster.database_exists("casereview_t1")
    cluster.drop_database("casereview_t1")  # dropping a missing database is fine


def test_create_database_from_template_copies_tables(cluster: ThrowawayCluster) -> None:
    cluster.create_database("casereview_tpl")
    with cluster.connect("casereview_tpl") as conn:
        conn.execute("create table cases (id int primary key, title text)")
        conn.execute("insert into cases values (1, 'first')")
    cluster.create_database("casereview_copy", template="casereview_tpl")
    with cluster.connect("casereview_copy") as conn:
        assert conn.execute("select id, title from cases").fetchall() == [(1, "first")]
    cluster.drop_database("casereview_copy")
    cluster.drop_database("casereview_tpl")


def test_create_database_from_busy_template_says_why(cluster: ThrowawayCluster) -> None:
    cluster.create_database("casereview_busy")
    with cluster.connect("casereview_busy"), pytest.raises(ClusterError, match="connected"):
        cluster.create_database("casereview_busy_copy", template="casereview_busy")
    cluster.drop_database("casereview_busy")


def test_drop_database_terminates_other_sessions(cluster: ThrowawayCluster) -> None:
    cluster.create_database("casereview_held")
    held = cluster.connect("casereview_held")
    cluster.drop_database("casereview_held")
    assert not cluster.database_exists("casereview_held")
    with pytest.raises(psycopg.OperationalError):
        held.execute("select 1")
    held.close()


def test_identifiers_are_quoted(cluster: ThrowawayCluster) -> None:
    name = 'odd "name"; drop'
    cluster.create_database(name)
    with cluster.connect(name) as conn:
        assert conn.execute("select current_database()").fetchone() == (name,)
    cluster.drop_database(name)


def test_stop_closes_port_and_removes_dir(bindir: Path) -> None:
    cluster = ThrowawayCluster(bindir).start()
    port, base = cluster.port, cluster.base_dir
    pid = int((cluster.data_dir / "postmaster.pid").read_text().split()[0])
    assert _port_open(port)
    assert (base / "data" / "PG_VERSION").exists()
    cluster.stop()
    assert not _port_open(port)
    assert not base.exists()
    assert not _postmaster_alive(pid)
    assert not cluster.running
    cluster.stop()  # idempotent


def test_start_retries_when_the_port_is_taken(
    bindir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        taken = squatter.getsockname()[1]
        ports = iter([taken])
        real_free_port = postgres._free_port
        monkeypatch.setattr(postgres, "_free_port", lambda: next(ports, None) or real_free_port())
        with ThrowawayCluster(bindir) as cluster:
            assert cluster.port != taken
            with cluster.connect() as conn:
                assert conn.execute("select 1").fetchone() == (1,)


@pytest.fixture
def open_base_dir() -> Iterator[Path]:
    """A world-traversable parent directory (pytest's tmp_path is 0700, root's own)."""
    base = Path(tempfile.mkdtemp(prefix="caserev-pg-test-"))
    base.chmod(0o755)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_failed_start_reports_the_log_and_cleans_up(bindir: Path, open_base_dir: Path) -> None:
    cluster = ThrowawayCluster(
        bindir, base_dir=open_base_dir, settings={"shared_buffers": "'not a size'"}
    )
    with pytest.raises(ClusterError, match="server log tail") as excinfo:
        cluster.start()
    assert 'invalid value for parameter "shared_buffers"' in str(excinfo.value)
    assert not cluster.running
    assert list(open_base_dir.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the server to another user")
def test_refuses_a_base_dir_the_server_user_cannot_reach(bindir: Path, tmp_path: Path) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(ClusterError, match="traversable"):
        ThrowawayCluster(bindir, base_dir=private).start()
    assert list(private.iterdir()) == []


def test_pg_cluster_fixture_is_usable(pg_cluster: PostgresServer) -> None:
    pg_cluster.create_database("casereview_fixture")
    with pg_cluster.connect("casereview_fixture") as conn:
        assert conn.execute("select 1").fetchone() == (1,)
    pg_cluster.drop_database("casereview_fixture")


def test_existing_server_derives_urls(cluster: ThrowawayCluster) -> None:
    server = ExistingServer(f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres")
    assert server.url("db1") == f"postgresql+psycopg://postgres@127.0.0.1:{cluster.port}/db1"
    server.create_database("casereview_ext")
    with server.connect("casereview_ext") as conn:
        assert conn.execute("select current_database()").fetchone() == ("casereview_ext",)
    server.drop_database("casereview_ext")
    secret = ExistingServer("postgresql+psycopg://u:hunter2@db.example:5433/admin")
    assert "hunter2" not in secret.description
    assert secret.admin_dbname == "admin"
    assert secret.url("x") == "postgresql+psycopg://u:hunter2@db.example:5433/x"


REPO_ROOT = Path(__file__).resolve().parents[2]


def _run_child_pytest(
    tmp_path: Path,
    env_extra: dict[str, str],
    test_source: str = "def test_it(pg_cluster): pass",
    extra_args: Sequence[str] = (),
) -> subprocess.CompletedProcess[str]:
    """Run the plugin in a child pytest in which no PostgreSQL binaries can be found."""
    (tmp_path / "conftest.py").write_text(
        "from pathlib import Path\n"
        "from tests.support import postgres\n"
        "postgres._DEBIAN_ROOT = Path(__file__).parent / 'no-such-dir'\n"
    )
    (tmp_path / "test_needs_pg.py").write_text(test_source + "\n")
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("CASEREVIEW_", "PYTEST_")) and k != "CI"
    }
    env.update(PATH=str(tmp_path / "empty-path"), PYTHONPATH=str(REPO_ROOT), **env_extra)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-p",
            "tests.support.pg_plugin",
            "-rs",
            *extra_args,
            str(tmp_path),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_plugin_skips_without_binaries(tmp_path: Path) -> None:
    dynamic = "def test_it(request): request.getfixturevalue('pg_cluster')"
    result = _run_child_pytest(tmp_path, {}, dynamic)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 skipped" in result.stdout
    assert "apt-get install postgresql" in result.stdout
    assert "PostgreSQL tests SKIPPED (1 skipped)" in result.stdout


def test_plugin_fails_without_binaries_on_ci(tmp_path: Path) -> None:
    result = _run_child_pytest(tmp_path, {"CI": "true"})
    assert result.returncode == 1, result.stdout + result.stderr
    assert ".ci/run installs them" in result.stdout
    assert "1 error" in result.stdout


def test_plugin_uses_the_server_in_the_url_env(tmp_path: Path, cluster: ThrowawayCluster) -> None:
    source = (
        "def test_it(pg_cluster):\n"
        "    pg_cluster.create_database('from_child')\n"
        "    pg_cluster.drop_database('from_child')"
    )
    result = _run_child_pytest(tmp_path, {"CASEREVIEW_TEST_PG_URL": cluster.url()}, source)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PostgreSQL tests ran (1 passed) on PostgreSQL" in result.stdout
    assert f"existing server postgresql+psycopg://postgres@127.0.0.1:{cluster.port}" in (
        result.stdout
    )


def test_plugin_reports_postgres_tests_run_by_xdist_workers(
    tmp_path: Path, cluster: ThrowawayCluster
) -> None:
    source = (
        "import pytest\n"
        "def test_static(pg_cluster):\n"
        "    assert pg_cluster.server_version\n"
        "def test_dynamic(request):\n"
        "    assert request.getfixturevalue('pg_cluster').server_version\n"
        "def test_without_postgres():\n"
        "    pass"
    )
    env = {"CASEREVIEW_TEST_PG_URL": cluster.url()}
    result = _run_child_pytest(tmp_path, env, source, extra_args=["-n", "2"])
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout
    assert "PostgreSQL tests ran (2 passed) on PostgreSQL" in result.stdout
