"""The soak's picture: latency p50/p99 and error rate per second, the chaos events as vertical lines."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from soak_chaos import Event  # type: ignore[import-not-found]
from soak_checks import LOST  # type: ignore[import-not-found]
from soak_client import Record  # type: ignore[import-not-found]

from common import percentile  # type: ignore[import-not-found]

BUCKET_S = 5.0


def plot(records: Sequence[Record], events: Sequence[Event], start: float, path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    buckets: dict[int, list[Record]] = {}
    for r in records:
        buckets.setdefault(int((r.due - start) // BUCKET_S), []).append(r)
    xs = [b * BUCKET_S + BUCKET_S / 2 for b in sorted(buckets)]
    rows = [buckets[b] for b in sorted(buckets)]
    answered = [[r.latency_ms for r in row if r.status and not math.isnan(r.done)] for row in rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 6.5), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    top.plot(xs, [percentile(a, 50) for a in answered], label="p50", color="tab:blue")
    top.plot(xs, [percentile(a, 99) for a in answered], label="p99", color="tab:red")
    top.set_yscale("log")
    top.set_ylabel(f"latency, ms ({BUCKET_S:.0f} s buckets)")
    shares = {
        "lost (connection error, non-OpenAI 5xx)": lambda r: r.outcome in LOST,
        "upstream error (502/504, stream error event)": lambda r: r.outcome in ("upstream_error", "stream_error"),
        "refused (429 rate limit / budget)": lambda r: r.outcome == "refused",
    }
    for (label, test), color in zip(shares.items(), ("black", "tab:orange", "tab:gray"), strict=True):
        bottom.plot(xs, [100 * sum(map(test, row)) / len(row) for row in rows], label=label, color=color)
    bottom.set_ylabel("% of requests")
    bottom.set_xlabel("seconds since start")
    _mark(top, bottom, events, start)
    top.legend(loc="upper left", fontsize=8)
    bottom.legend(loc="upper left", fontsize=8)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _mark(top: Any, bottom: Any, events: Sequence[Event], start: float) -> None:
    """The chaos events: a dashed vertical line on both plots, named on the upper one."""
    for axis in (top, bottom):
        for event in events:
            axis.axvline(event.at - start, color="tab:purple", linestyle="--", linewidth=0.8)
        axis.grid(alpha=0.3)
    for event in events:
        top.annotate(
            f"{event.name} {event.detail.split()[0] if event.detail else ''}".strip(),
            (event.at - start, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
        )
