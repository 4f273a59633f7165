"""`make bench`: generate data, start the servers, drive them with wrk, print one table.

Every figure is a ratio to a baseline measured in the same run (see
docs/performance.md): polling and commands against a bench-only FastAPI app started
the same way (bench/baseline_app.py), scale as latency at 100k cases against 1k.
Everything runs on 127.0.0.1 in temporary directories: a throwaway PostgreSQL
cluster (tests/support/postgres.py) and SQLite files; all of it is stopped and
removed at the end.

    .venv/bin/python -m bench.run [--quick] [--seconds N] [--connections N]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bench import datagen, scenarios
from bench.harness import Server, product_env, require_wrk
from bench.table import Row, absolute, growth, info, render
from config.settings import Settings
from tests.support.postgres import ExistingServer, ThrowawayCluster
from workflow.runtime import open_database
from workflow.storage import migrate
from workflow.storage.database import Database

# production durability on the throwaway cluster (tests turn it off for speed)
PG_SETTINGS = {"fsync": "on", "synchronous_commit": "on", "full_page_writes": "on"}


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def prepare(url: str, data: Path) -> tuple[Database, dict[str, str]]:
    migrate.upgrade(url)
    database = open_database(Settings(database_url=url, data_dir=data))
    p = datagen.principals(database, datetime.now(UTC))
    return database, {"national": p.national, "officer": p.officer, "viewer": p.viewer}


def throughput_suite(backend: str, url: str, data: Path, args: argparse.Namespace) -> list[Row]:
    """Polling and commands on one backend: the product and the baseline app side by side."""
    database, tokens = prepare(url, data)
    n = max(1500, int(args.seconds * 500))  # more cases than either side can get through
    now = datetime.now(UTC)
    ids = (
        datagen.fresh_cases(database, datagen.COMMAND_PARTNERSHIPS, n, now),
        datagen.fresh_cases(database, datagen.COMMAND_PARTNERSHIPS, n, now),
    )
    database.dispose()
    env = product_env(url, data)
    rows: list[Row] = []
    with (
        Server("product", env) as product,
        Server("baseline", {**env, "BENCH_DATABASE_URL": url}) as baseline,
    ):
        say(f"{backend}: polling")
        case_id = scenarios.polled_case(product, tokens["officer"])
        rows += scenarios.polling(
            backend, product, baseline, tokens, case_id, args.seconds, args.connections
        )
        say(f"{backend}: commands")
        rows += scenarios.commands(
            backend, product, baseline, tokens, ids, args.seconds, args.connections
        )
    return rows


def scale_suite(
    backend: str, url_for: Callable[[int], str], data: Path, args: argparse.Namespace
) -> list[Row]:
    """Latency of lists and the dashboard as the case count grows; RSS at the end.
    `url_for(size)`: the database of each size (one growing database, or one kept
    per size with `--scale-server`)."""
    measured = {}
    product: Server | None = None
    database: Database | None = None
    url = ""
    try:
        for size in args.sizes:
            if url_for(size) != url:
                if database is not None:
                    database.dispose()
                if product is not None:
                    product.stop()
                    product = None
                url = url_for(size)
                database, tokens = prepare(url, data)
            have = datagen.count_cases(database)
            say(f"{backend}: generating cases {have} -> {size}")
            started = time.monotonic()
            datagen.add_cases(database, size - have, datetime.now(UTC), seed=size)
            if backend == "postgresql":
                with database.engine.connect() as conn:
                    conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE"))
            say(f"{backend}: {size} cases in {time.monotonic() - started:.0f} s; measuring")
            if product is None:
                product = Server("product", product_env(url, data))
            measured[size] = scenarios.latencies(product, tokens, args.scale_seconds)
        rss = product.rss_mib() if product else float("nan")
    finally:
        if database is not None:
            database.dispose()
        if product is not None:
            product.stop()
    small, big = args.sizes[0], args.sizes[-1]
    label = f"{big // 1000}k"
    rows = [
        growth(name, backend, measured[small][name], measured[big][name], label)
        for name, _path, _who in scenarios.SCALE_QUERIES
    ]
    rows.append(
        absolute(
            f"dashboard summary p99 at {label}",
            backend,
            measured[big]["dashboard summary"].p99_ms,
            50,
            "ms",
        )
    )
    for size in args.sizes[1:-1]:
        mid = measured[size]
        rows.append(
            info(
                "scale",
                f"p99 at {size // 1000}k (list, overdue, theme, dashboard)",
                backend,
                ", ".join(
                    f"{mid[k].p99_ms:.1f}"
                    for k in ("case list", "overdue list", "theme list", "dashboard summary")
                ),
            )
        )
    rows.append(
        info("memory", f"worker RSS after the scale run ({label})", backend, f"{rss:.0f} MiB")
    )
    return rows


def kept_databases(server_url: str) -> Callable[[int], str]:
    """`bench_scale_<size>` on a running server, created when missing, kept after."""
    server = ExistingServer(server_url)

    def url_for(size: int) -> str:
        name = f"bench_scale_{size}"
        if not server.database_exists(name):
            server.create_database(name)
        return server.url(name)

    return url_for


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a short smoke run (~2 min)")
    parser.add_argument("--seconds", type=float, default=10, help="wrk duration per figure")
    parser.add_argument("--scale-seconds", type=float, default=8)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--scale-sqlite", action="store_true", help="also run scale on SQLite")
    parser.add_argument("--skip", default="", help="comma list of: sqlite,postgresql,scale")
    parser.add_argument(
        "--scale-server",
        metavar="URL",
        help="scale on this running PostgreSQL server (a role that may create databases):\n"
        "one database per size, bench_scale_<size>, generated once and kept, so a\n"
        "second run skips generating (drop them to start afresh)",
    )
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.scale_seconds, args.sizes = 6, 3, "1000,5000"
    args.sizes = [int(s) for s in args.sizes.split(",")]
    args.skip = set(filter(None, args.skip.split(",")))
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    require_wrk()
    started = time.monotonic()
    data = Path(tempfile.mkdtemp(prefix="casereview-bench-"))
    cluster = None
    rows: list[Row] = []
    try:
        if "sqlite" not in args.skip:
            rows += throughput_suite("sqlite", f"sqlite:///{data / 'bench.db'}", data, args)
        if "postgresql" not in args.skip or ("scale" not in args.skip and not args.scale_server):
            say("starting a throwaway PostgreSQL cluster")
            cluster = ThrowawayCluster(settings=PG_SETTINGS).start()
            say(f"PostgreSQL {cluster.server_version}")
        if cluster is not None and "postgresql" not in args.skip:
            cluster.create_database("bench")
            rows += throughput_suite("postgresql", cluster.url("bench"), data, args)
        if args.scale_server and "scale" not in args.skip:
            rows += scale_suite("postgresql", kept_databases(args.scale_server), data, args)
        elif cluster is not None and "scale" not in args.skip:
            cluster.create_database("scale")
            rows += scale_suite("postgresql", lambda _size: cluster.url("scale"), data, args)
        if args.scale_sqlite and "scale" not in args.skip:
            db = data / "scale.db"
            rows += scale_suite("sqlite", lambda _size: f"sqlite:///{db}", data, args)
    finally:
        if cluster is not None:
            cluster.stop()
        shutil.rmtree(data, ignore_errors=True)
    print(render(rows))
    missed = [r for r in rows if r.ok is False]
    print(
        f"\n{len(rows)} figures, {len(missed)} targets missed, {time.monotonic() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
