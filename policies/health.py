"""Circuit breakers as a pure state machine: a snapshot, a result and ``now`` in, a snapshot out.

    closed ──(N consecutive failures, or error rate >= R over >= M calls in the window)──► open
    open ──(cool-down elapsed)──► half_open ──(a success)──► closed
                                      └──────(a failure)──► open (cool-down starts again)

Half-open admits one probe at a time: ``claim_probe`` grants the probe to one request
and, until its result arrives (or a cool-down passes without one), every other
request sees the tier as open.

The gateway keeps one snapshot per tier and shares the open/closed transitions through
Redis; this module only computes.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from policies.types import BreakerState


@dataclass(frozen=True, slots=True)
class BreakerConfig:
    failure_threshold: int = 5  # consecutive failures that open the breaker
    error_rate: float = 0.5  # or this failure rate...
    min_calls: int = 20  # ...over at least this many calls in the window
    window_s: float = 30.0
    cooldown_s: float = 10.0  # open this long before a half-open probe


@dataclass(frozen=True, slots=True)
class BreakerSnapshot:
    consecutive_failures: int = 0
    window_start: float = 0.0
    window_calls: int = 0
    window_failures: int = 0
    opened_at: float | None = None
    probe_at: float | None = None  # half-open: when the one probe in flight was granted


def claim_probe(snapshot: BreakerSnapshot, config: BreakerConfig, now: float) -> BreakerSnapshot | None:
    """Grant the half-open probe: the snapshot that records it, or ``None`` if one is in flight."""
    if snapshot.probe_at is not None and now - snapshot.probe_at < config.cooldown_s:
        return None
    return replace(snapshot, probe_at=now)


def breaker_state(snapshot: BreakerSnapshot, config: BreakerConfig, now: float) -> BreakerState:
    if snapshot.opened_at is None:
        return "closed"
    return "open" if now - snapshot.opened_at < config.cooldown_s else "half_open"


def on_result(snapshot: BreakerSnapshot, ok: bool, config: BreakerConfig, now: float) -> BreakerSnapshot:
    """The snapshot after one call to the tier succeeded (``ok``) or failed."""
    state = breaker_state(snapshot, config, now)
    if state == "half_open":
        return BreakerSnapshot(window_start=now) if ok else replace(snapshot, opened_at=now, probe_at=None)
    if now - snapshot.window_start >= config.window_s:
        snapshot = replace(snapshot, window_start=now, window_calls=0, window_failures=0)
    calls = snapshot.window_calls + 1
    if ok:
        return replace(snapshot, consecutive_failures=0, window_calls=calls)
    failures = snapshot.window_failures + 1
    consecutive = snapshot.consecutive_failures + 1
    trips = consecutive >= config.failure_threshold or (
        calls >= config.min_calls and failures / calls >= config.error_rate
    )
    opened = now if trips and state == "closed" else snapshot.opened_at
    return BreakerSnapshot(consecutive, snapshot.window_start, calls, failures, opened)
