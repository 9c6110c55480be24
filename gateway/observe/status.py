"""The status page's numbers, read back from the process's own metrics registry.

Nothing is counted twice: every figure is a sum over samples of ``Metrics`` (the same
counters ``/metrics`` exposes), so the page and Prometheus never disagree. Percentiles
are estimated from histogram buckets the way PromQL's ``histogram_quantile`` does it
(linear inside the bucket; the highest finite bound when the rank falls in ``+Inf``).
The all-frontier counterfactual is ``spend + savings`` (see ``observe/record.py``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.samples import Sample

from gateway.observe.metrics import BREAKER_VALUES

QUANTILES = (0.5, 0.95, 0.99)
Samples = dict[str, list[Sample]]


def collect(registry: CollectorRegistry) -> Samples:
    """Every sample of ``registry``, grouped by sample name (``triage_requests_total``, ...)."""
    samples: Samples = {}
    for family in registry.collect():
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def process_uptime_s(now: float | None = None) -> float | None:
    """Seconds since this process started (``process_start_time_seconds``); None where unknown."""
    for family in ProcessCollector(registry=None).collect():
        for sample in family.samples:
            if sample.name == "process_start_time_seconds":
                return max((time.time() if now is None else now) - sample.value, 0.0)
    return None


def quantile(q: float, buckets: Sequence[tuple[float, float]]) -> float | None:
    """``histogram_quantile(q)`` over cumulative ``(upper bound, count)`` buckets; None when empty."""
    ordered = sorted(buckets)
    if not ordered or ordered[-1][1] <= 0:
        return None
    rank = q * ordered[-1][1]
    lower, below = 0.0, 0.0
    for bound, count in ordered:
        if count >= rank and count > below:
            if math.isinf(bound):
                return lower
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def _sum(samples: Samples, name: str) -> float:
    return sum(sample.value for sample in samples.get(name, ()))


def _sum_by(samples: Samples, name: str, *labels: str) -> dict[tuple[str, ...], float]:
    out: dict[tuple[str, ...], float] = {}
    for sample in samples.get(name, ()):
        key = tuple(sample.labels.get(label, "") for label in labels)
        out[key] = out.get(key, 0.0) + sample.value
    return out


def _ordered(known: Sequence[str], seen: Iterable[str]) -> list[str]:
    """The configured names in config order, then any others seen in the metrics, sorted."""
    return [*known, *sorted(set(seen) - set(known))]


def histogram(samples: Samples, name: str) -> dict[str, Any]:
    """Count, mean and p50/p95/p99 (seconds) of histogram ``name`` over all its labels."""
    by_bound = _sum_by(samples, f"{name}_bucket", "le")
    buckets = [(float(le), count) for (le,), count in by_bound.items()]
    count = _sum(samples, f"{name}_count")
    out: dict[str, Any] = {"count": int(count), "mean_s": _sum(samples, f"{name}_sum") / count if count else None}
    for q in QUANTILES:
        out[f"p{round(q * 100)}_s"] = quantile(q, buckets)
    return out


def route_mix(samples: Samples, tiers: Sequence[str]) -> dict[str, Any]:
    """Requests by answering tier (``none``: none answered) and, per profile, by tier."""
    by_pair = _sum_by(samples, "triage_requests_total", "profile", "tier")
    total = sum(by_pair.values())
    tier_counts: dict[str, float] = {}
    profile_counts: dict[str, dict[str, float]] = {}
    for (profile, tier), count in by_pair.items():
        tier_counts[tier] = tier_counts.get(tier, 0.0) + count
        split = profile_counts.setdefault(profile, {})
        split[tier] = split.get(tier, 0.0) + count
    tier_rows = [
        {"tier": tier, "requests": int(count), "share": count / total if total else 0.0}
        for tier in _ordered(tiers, (t for t, n in tier_counts.items() if n > 0))
        for count in (tier_counts.get(tier, 0.0),)
    ]
    profile_rows = [
        {
            "profile": profile,
            "requests": int(sum(split.values())),
            "tiers": {tier: int(n) for tier, n in sorted(split.items()) if n > 0},
        }
        for profile, split in sorted(profile_counts.items())
        if sum(split.values()) > 0
    ]
    return {"tiers": tier_rows, "profiles": profile_rows}


def spend(samples: Samples) -> dict[str, Any]:
    """What was spent, what sending everything to the frontier would have cost, and the difference."""
    spent = _sum(samples, "triage_cost_usd_total")
    saved = _sum(samples, "triage_savings_usd_total")
    frontier = spent + saved
    spent_by = _sum_by(samples, "triage_cost_usd_total", "tier")
    saved_by = _sum_by(samples, "triage_savings_usd_total", "tier")
    return {
        "spent_usd": spent,
        "frontier_usd": frontier,
        "saved_usd": saved,
        "saved_share": saved / frontier if frontier > 0 else None,
        "spent_by_tier": {tier: value for (tier,), value in sorted(spent_by.items())},
        "saved_by_tier": {tier: value for (tier,), value in sorted(saved_by.items())},
    }


def breakers(samples: Samples, tiers: Sequence[str]) -> list[dict[str, str]]:
    """Each tier's breaker state from ``triage_breaker_state`` (``unknown`` before it was set)."""
    names = {value: name for name, value in BREAKER_VALUES.items()}
    states = {
        sample.labels["tier"]: names.get(int(sample.value), "unknown")
        for sample in samples.get("triage_breaker_state", ())
    }
    return [{"tier": tier, "state": states.get(tier, "unknown")} for tier in _ordered(tiers, states)]


def requests(samples: Samples) -> dict[str, Any]:
    """The request count, by status class, and the cache's outcomes."""
    by_class = _sum_by(samples, "triage_requests_total", "status_class")
    cache = _sum_by(samples, "triage_cache_requests_total", "result")
    return {
        "total": int(sum(by_class.values())),
        "by_status": {status: int(n) for (status,), n in sorted(by_class.items())},
        "cache": {result: int(n) for (result,), n in sorted(cache.items())},
    }


def status(
    registry: CollectorRegistry, tiers: Sequence[str], uptime_s: float | None, refresh_s: float
) -> dict[str, Any]:
    """The whole ``/ui/data`` document."""
    samples = collect(registry)
    return {
        "object": "triage.status",
        "uptime_s": uptime_s,
        "refresh_s": refresh_s,
        "requests": requests(samples),
        "route_mix": route_mix(samples, tiers),
        "spend": spend(samples),
        "latency": {
            "request": histogram(samples, "triage_request_duration_seconds"),
            "overhead": histogram(samples, "triage_gateway_overhead_seconds"),
        },
        "breakers": breakers(samples, tiers),
    }
