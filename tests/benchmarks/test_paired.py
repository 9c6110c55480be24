"""Paired overhead: differences per pair, and their percentiles (never a p99 below the p50)."""

from __future__ import annotations

import math
import random

import paired  # type: ignore[import-not-found]
from loadgen import Sample  # type: ignore[import-not-found]


def _sample(latency: float, status: int = 200, ttft: float = math.nan) -> Sample:
    return Sample(due=0.0, latency_ms=latency, ttft_ms=ttft, status=status)


def test_a_difference_per_pair_with_both_halves_answered() -> None:
    gateway = [_sample(5.0), _sample(7.0), _sample(9.0, status=502), _sample(4.0)]
    direct = [_sample(1.0), None, _sample(1.0), _sample(2.0, status=0)]
    assert paired.differences(gateway, direct) == [4.0]


def test_ttft_differences_skip_pairs_without_a_first_token() -> None:
    gateway = [_sample(5.0, ttft=3.0), _sample(5.0, ttft=math.nan), _sample(6.0, ttft=2.5)]
    direct = [_sample(1.0, ttft=1.0), _sample(1.0, ttft=0.5), _sample(1.0, ttft=2.0)]
    assert paired.differences(gateway, direct, "ttft_ms") == [2.0, 0.5]


def test_percentiles_of_differences_are_ordered_where_differences_of_percentiles_are_not() -> None:
    # the gateway adds 1.0-1.2 ms to every request; the direct side has a 2% tail of +50 ms that, in a
    # separate run, the gateway's requests happened to miss
    rng = random.Random(3)
    direct_ms = [1.0 + (50.0 if i % 50 == 0 else 0.0) for i in range(2000)]
    gateway = [_sample(d + 1.0 + rng.random() * 0.2) for d in direct_ms]
    row = paired.summary(gateway, [_sample(d) for d in direct_ms])
    assert row["pairs"] == 2000
    assert 1.0 <= row["overhead_p50_ms"] <= row["overhead_p90_ms"] <= row["overhead_p99_ms"] <= 1.2
    other_run = paired.quantiles([2.0 + rng.random() * 0.2 for _ in direct_ms], "g")
    direct = paired.quantiles(direct_ms, "d")
    assert other_run["g_p99_ms"] - direct["d_p99_ms"] < other_run["g_p50_ms"] - direct["d_p50_ms"]


def test_summary_counts_the_direct_sides_errors_and_keeps_its_raw_percentiles() -> None:
    gateway = [_sample(3.0), _sample(4.0), _sample(5.0), _sample(6.0)]
    direct = [_sample(1.0), _sample(2.0, status=500), None, _sample(3.0)]
    row = paired.summary(gateway, direct)
    assert (row["pairs"], row["direct_sent"], row["direct_errors"]) == (2, 3, 1)
    assert row["direct_latency_p50_ms"] in (1.0, 3.0)
    assert row["overhead_p99_ms"] == 3.0
    assert "ttft_overhead_p50_ms" not in row


def test_no_pairs_gives_nan_not_a_number_made_up() -> None:
    row = paired.summary([_sample(3.0, status=502)], [_sample(1.0)])
    assert row["pairs"] == 0
    assert math.isnan(row["overhead_p50_ms"])
