"""Overhead from paired samples: the same request through the gateway and straight to the simulator.

``loadgen.run_paired`` sends request *i* through the gateway at its due time and, with the same body,
straight to the simulator half an interval later; a pair whose two halves both answered 200 gives one
difference (gateway latency - direct latency). The overhead percentiles are percentiles of those
differences, so a p99 overhead below the p50 cannot appear (a difference of two runs' percentiles
could show one). The raw percentiles of each side are kept beside them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from loadgen import Sample  # type: ignore[import-not-found]

from common import percentile  # type: ignore[import-not-found]

QUANTILES = (50, 90, 99)


def differences(gateway: Sequence[Sample], direct: Sequence[Sample | None], field: str = "latency_ms") -> list[float]:
    """Per pair with both halves 200 and ``field`` measured on both: gateway's ``field`` - direct's."""
    out: list[float] = []
    for through, probe in zip(gateway, direct, strict=True):
        if probe is None or through.status != 200 or probe.status != 200:
            continue
        a, b = getattr(through, field), getattr(probe, field)
        if not (math.isnan(a) or math.isnan(b)):
            out.append(a - b)
    return out


def quantiles(values: list[float], prefix: str) -> dict[str, float]:
    """``{prefix}_p50_ms`` ... for ``QUANTILES`` (NaN when there are no values)."""
    return {f"{prefix}_p{q}_ms": percentile(values, q) for q in QUANTILES}


def summary(gateway: Sequence[Sample], direct: Sequence[Sample | None]) -> dict[str, Any]:
    """Paired overhead percentiles (latency, and TTFT when streamed), the pair count, and the direct
    side's raw percentiles and errors."""
    probes = [p for p in direct if p is not None]
    ok = [p for p in probes if p.status == 200]
    latency = differences(gateway, direct)
    row: dict[str, Any] = {
        "pairs": len(latency),
        "direct_sent": len(probes),
        "direct_errors": len(probes) - len(ok),
        **quantiles(latency, "overhead"),
        **quantiles([p.latency_ms for p in ok], "direct_latency"),
    }
    ttft = differences(gateway, direct, "ttft_ms")
    if ttft:
        row.update(quantiles(ttft, "ttft_overhead"))
        row.update(quantiles([p.ttft_ms for p in ok if not math.isnan(p.ttft_ms)], "direct_ttft"))
    return row
