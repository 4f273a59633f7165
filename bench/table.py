"""The table `make bench` prints: one row per figure, its baseline and the ratio."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from bench.harness import WrkResult


@dataclass(frozen=True)
class Row:
    section: str
    figure: str
    backend: str
    measured: str
    baseline: str
    ratio: float | None
    target: str
    ok: bool | None  # None: no target


def throughput(
    section: str,
    figure: str,
    backend: str,
    result: WrkResult,
    base: WrkResult,
    target: float | None,
) -> Row:
    """`result` against `base` in requests per second (higher is better)."""
    ratio = result.rps / base.rps if base.rps else math.nan
    failures = f" ({result.bad} bad, {result.errors} err)" if result.bad or result.errors else ""
    return Row(
        section,
        figure,
        backend,
        f"{result.rps:.0f} req/s, {result.cpu_ms:.2f} ms CPU/req{failures}",
        f"{base.rps:.0f} req/s, {base.cpu_ms:.2f} ms CPU/req",
        ratio,
        f">= {target}" if target is not None else "-",
        None if target is None else ratio >= target,
    )


def growth(figure: str, backend: str, small: WrkResult, large: WrkResult, big_n: str) -> Row:
    """Latency at the largest size against the smallest (lower is better): the ratio
    of medians (p99 of a few hundred requests on a shared machine is mostly noise;
    both are shown)."""
    ratio = large.p50_ms / small.p50_ms if small.p50_ms else math.nan
    return Row(
        "scale",
        f"{figure}: p50 at {big_n} / 1k",
        backend,
        f"p50 {large.p50_ms:.1f} ms, p99 {large.p99_ms:.1f} ms",
        f"p50 {small.p50_ms:.1f} ms, p99 {small.p99_ms:.1f} ms",
        ratio,
        "<= 1.5",
        ratio <= 1.5,
    )


def absolute(figure: str, backend: str, value: float, limit: float, unit: str) -> Row:
    return Row(
        "scale",
        figure,
        backend,
        f"{value:.1f} {unit}",
        "-",
        None,
        f"< {limit:g} {unit}",
        value < limit,
    )


def info(section: str, figure: str, backend: str, measured: str) -> Row:
    return Row(section, figure, backend, measured, "-", None, "-", None)


def render(rows: Sequence[Row]) -> str:
    """A Markdown table (readable in a terminal, pasteable into docs/performance.md)."""
    head = ("section", "figure", "db", "measured", "baseline", "ratio", "target", "ok")
    body = [
        (
            r.section,
            r.figure,
            r.backend,
            r.measured,
            r.baseline,
            "-" if r.ratio is None else f"{r.ratio:.2f}",
            r.target,
            {True: "yes", False: "NO", None: "-"}[r.ok],
        )
        for r in rows
    ]
    widths = [max(len(str(x)) for x in col) for col in zip(head, *body, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

    rule = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(head), rule, *(line(b) for b in body)])
