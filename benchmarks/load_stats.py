"""Summaries of load steps: raw percentiles, sustainable RPS (on the paired overheads of ``paired``), plots."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

from loadgen import Sample  # type: ignore[import-not-found]

from common import percentile  # type: ignore[import-not-found]

SUSTAINABLE_P99_MS = (10.0, 50.0)


def _pcts(values: list[float], prefix: str) -> dict[str, float]:
    return {f"{prefix}_p{q}_ms": percentile(values, q) for q in (50, 90, 99)}


def summarise(samples: list[Sample], window_s: float, cpu_s: float, requests_total: int, rss: float) -> dict[str, Any]:
    ok = [s for s in samples if s.status == 200]
    latency = [s.latency_ms for s in ok]
    ttft = [s.ttft_ms for s in ok if not math.isnan(s.ttft_ms)]
    errors = Counter(str(s.status) for s in samples if s.status != 200)
    row: dict[str, Any] = {
        "sent": len(samples),
        "ok": len(ok),
        "errors": sum(errors.values()),
        "error_rate": sum(errors.values()) / max(1, len(samples)),
        "error_statuses": dict(errors),
        "achieved_rps": len(ok) / window_s if window_s == window_s and window_s > 0 else 0.0,
        **_pcts(latency, "latency"),
        "latency_max_ms": max(latency, default=float("nan")),
        "lag_p99_ms": percentile([s.lag_ms for s in samples], 99),
        "cpu_ms_per_request": 1000 * cpu_s / max(1, requests_total),
        "rss_mb": rss,
    }
    if ttft:
        row.update(_pcts(ttft, "ttft"))
    for header in ("x-triage-cache", "x-triage-tier"):
        counts = Counter(s.headers[header] for s in ok if header in s.headers)
        if counts:
            row[header.removeprefix("x-triage-")] = dict(counts)
    return row


def healthy(step: dict[str, Any], p99_ms: float) -> bool:
    return (
        step["errors"] == 0
        and step.get("overhead_p99_ms", math.inf) < p99_ms
        and step["achieved_rps"] >= 0.95 * step["rate"]
    )


def series(steps: list[dict[str, Any]], scenario: str) -> dict[str, list[dict[str, Any]]]:
    """Steps of one scenario grouped by ``label``, sorted by rate."""
    out: dict[str, list[dict[str, Any]]] = {}
    for step in sorted((s for s in steps if s["scenario"] == scenario), key=lambda s: s["rate"]):
        out.setdefault(step["label"], []).append(step)
    return out


def capacity(steps: list[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """Per label of the sweep: sustainable RPS at each p99-overhead bound, and saturation (max achieved RPS)."""
    out: dict[str, dict[str, float]] = {}
    for label, rows in series(steps, "sweep").items():
        entry: dict[str, float] = {
            "max_rate_tried": max(r["rate"] for r in rows),
            "saturation_rps": max(r["achieved_rps"] for r in rows),
        }
        for bound in SUSTAINABLE_P99_MS:
            good = [r["rate"] for r in rows if healthy(r, bound)]
            entry[f"sustainable_rps_p99_{int(bound)}ms"] = max(good, default=0.0)
        out[label] = entry
    return out


def plot(steps: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    sweep = series(steps, "sweep")
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    probes = max(sweep.values(), key=len, default=[])
    if probes:
        axes[0].plot(
            [r["rate"] for r in probes],
            [r["direct_latency_p50_ms"] for r in probes],
            color="black",
            marker="o",
            label="direct (paired requests) p50",
        )
    for label, rows in sweep.items():
        rates = [r["rate"] for r in rows]
        line = axes[0].plot(rates, [r["latency_p50_ms"] for r in rows], marker="o", label=f"{label} p50")[0]
        axes[0].plot(
            rates,
            [r["latency_p99_ms"] for r in rows],
            ls="--",
            marker="x",
            color=line.get_color(),
            label=f"{label} p99",
        )
        axes[1].plot(
            rates,
            [max(r.get("overhead_p99_ms", math.nan), 0.01) for r in rows],
            marker="o",
            color=line.get_color(),
            label=f"{label} p99",
        )
        axes[1].plot(
            rates,
            [max(r.get("overhead_p50_ms", math.nan), 0.01) for r in rows],
            ls=":",
            color=line.get_color(),
            label=f"{label} p50",
        )
        axes[2].plot(rates, [r["cpu_ms_per_request"] for r in rows], marker="o", color=line.get_color(), label=label)
    axes[1].axhline(10, color="grey", lw=0.8, ls="--", label="10 ms (sustainable bound)")
    titles = (
        "latency vs offered rate (direct is the baseline)",
        "gateway overhead (percentiles of paired differences)",
        "gateway CPU per request",
    )
    ylabels = ("latency (ms)", "overhead (ms)", "CPU ms / request")
    for ax, title, ylabel in zip(axes, titles, ylabels, strict=True):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("offered rate (requests/s)")
        ax.set_ylabel(ylabel)
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3, which="both")
        ax.legend(fontsize=6)
    fig.suptitle("Open-loop load, real routing-dev prompts; gateways pinned to one core")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
