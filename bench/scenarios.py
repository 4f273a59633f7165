"""The measurements: polling, commands and scale, each against its baseline.

Each function drives running servers (bench/harness.py) with wrk and returns rows for
the table (bench/table.py). Ratios are taken within one run so that the machine's
noise weighs on both sides alike.
"""

from __future__ import annotations

import contextlib
import json
import tempfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import httpx

from bench.harness import Server, WrkResult, interleaved, wrk
from bench.table import Row, throughput
from tests.support.factories import BODIES

API = "/api/v1"
Measure = Callable[[float], WrkResult]
INCIDENT = json.loads((Path(__file__).resolve().parent / "incident.json").read_text())
STEPS = {  # drive the polled case on, so that its body has stage records and deadlines
    action: BODIES[trigger]
    for action, trigger in (
        ("notification", "record_notification"),
        ("rapid-review", "complete_rapid_review"),
        ("decision", "record_decision"),
    )
}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def polled_case(product: Server, officer: str) -> str:
    """Log an incident and move it on through the API; returns its id."""
    with httpx.Client(base_url=product.base + API, headers=bearer(officer), timeout=30) as c:
        made = c.post("/incidents", json={**INCIDENT, "partnership": "p000"})
        made.raise_for_status()
        case = made.json()
        for action, body in STEPS.items():
            moved = c.post(
                f"/cases/{case['id']}/{action}",
                json=body,
                headers={"If-Match": f'"{case["version"]}"'},
            )
            if moved.status_code != 200:
                break  # a body this bench has wrong: poll the case where it stands
            case = moved.json()
        return str(case["id"])


def polling(
    backend: str,
    product: Server,
    baseline: Server,
    tokens: dict[str, str],
    case_id: str,
    seconds: float,
    connections: int,
) -> list[Row]:
    """GET /cases/{id}: 304 and 200 against a bare FastAPI route's throughput."""
    url = f"{product.base}{API}/cases/{case_id}"
    viewer, officer = bearer(tokens["viewer"]), bearer(tokens["officer"])
    tag = httpx.get(url, headers=viewer, timeout=30).headers["etag"]

    def run(server: Server, target: str, headers: dict[str, str] | None = None) -> Measure:
        return lambda t: wrk(
            target, seconds=t, connections=connections, headers=headers, server=server
        )

    got = interleaved(
        {
            "bare": run(baseline, baseline.base + "/bare"),
            "304": run(product, url, {**viewer, "If-None-Match": tag}),
            "summary": run(product, url, viewer),
            "personal": run(product, url, officer),
        },
        seconds,
    )
    bare, not_modified, summary, personal = (got[k] for k in ("bare", "304", "summary", "personal"))
    return [
        throughput("polling", "GET case 304 (viewer)", backend, not_modified, bare, 0.5),
        throughput("polling", "GET case 200 summary (viewer)", backend, summary, bare, 0.25),
        throughput("polling", "GET case 200 personal (audited)", backend, personal, bare, None),
    ]


def commands(
    backend: str,
    product: Server,
    baseline: Server,
    tokens: dict[str, str],
    ids: tuple[list[str], list[str]],
    seconds: float,
    connections: int,
) -> list[Row]:
    """record_notification through the product against the raw-driver route."""
    today = date.today().isoformat()
    body = json.dumps({"notification_date": today, "partners_informed_date": today})
    stack = contextlib.ExitStack()
    runs = {}
    for name, server, case_ids, path, headers in (
        ("raw", baseline, ids[1], "/raw/notification/{id}", ""),
        (
            "full",
            product,
            ids[0],
            API + "/cases/{id}/notification",
            f'Authorization: Bearer {tokens["officer"]}\nIf-Match: "1"',
        ),
    ):
        f = stack.enter_context(tempfile.NamedTemporaryFile("w", suffix=".ids"))  # noqa: SIM115
        f.write("\n".join(case_ids) + "\n")
        f.flush()
        runs[name] = _command_run(server, f.name, path, body, headers, connections)
    got = interleaved(runs, seconds)
    raw, full = got["raw"], got["full"]
    stack.close()
    return [throughput("commands", "record_notification vs raw", backend, full, raw, 0.5)]


def _command_run(
    server: Server, ids_file: str, path: str, body: str, headers: str, connections: int
) -> Measure:
    """wrk with commands.lua: each request takes the next unused case id (slices of
    one run continue where the previous stopped: the ids are split per slice)."""
    threads = 2
    offset = {"next": 0}

    def run(seconds: float) -> WrkResult:
        result = wrk(
            server.base + "/",
            seconds=seconds,
            connections=connections,
            threads=threads,
            script="commands.lua",
            script_env={
                "BENCH_IDS": ids_file,
                "BENCH_SKIP": str(offset["next"]),
                "BENCH_THREADS": str(threads),
                "BENCH_PATH": path,
                "BENCH_BODY": body,
                "BENCH_HEADERS": headers,
            },
            server=server,
        )
        offset["next"] += 2 * result.requests + 4 * connections
        return result

    return run


# Pages of equal length at every size, so a ratio measures growth (indexes, N+1), not
# rendering: at 1k cases over 150 partnerships the viewer's partnership has ~7 cases, so
# its page is 5 long at every size (a 50-long page would compare 7 items with 50).
SCALE_QUERIES = (
    ("case list", "/cases?limit=50", "national"),
    ("case list (partnership)", "/cases?limit=5", "viewer"),
    ("overdue list", "/cases?overdue=true&limit=50", "national"),
    ("theme list", "/cases?theme=neglect&limit=50", "national"),
    ("dashboard summary", "/dashboard", "national"),
    ("dashboard (partnership)", "/dashboard", "viewer"),
)


def latencies(product: Server, tokens: dict[str, str], seconds: float) -> dict[str, WrkResult]:
    """One connection at a time (latency, not throughput) for each scale query."""
    out = {}
    for label, path, who in SCALE_QUERIES:
        url, auth = product.base + API + path, bearer(tokens[who])
        wrk(url, seconds=1, connections=1, threads=1, headers=auth)  # warm-up, discarded
        out[label] = wrk(url, seconds=seconds, connections=1, threads=1, headers=auth)
    return out
