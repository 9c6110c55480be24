"""Rate limits on a real Redis with an injected clock: no sleeping into fresh minute windows."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as redis

from gateway.settings import RedisSettings
from gateway.state.ratelimit import RateLimiter
from gateway.state.redis import RedisGuard, build_redis


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def guards(redis_url: str) -> AsyncIterator[list[RedisGuard]]:
    """Two replicas' guards (each its own 64-connection pool) on one real Redis, flushed first."""
    # a generous op timeout: this machine's two cores also run the other tests' processes
    settings = RedisSettings(url=redis_url, max_connections=64, op_timeout_ms=1000, connect_timeout_ms=1000)
    made = [RedisGuard(build_redis(settings), settings) for _ in range(2)]
    await made[0].client.flushdb()
    try:
        yield made
    finally:
        for guard in made:
            await guard.aclose()


async def test_two_replicas_at_five_times_the_pool_admit_exactly_the_limit(guards: list[RedisGuard]) -> None:
    clock = Clock(1_000_040.0)  # 20 s into a minute window (1_000_020 is a window start)
    limiters = [RateLimiter(guard, clock) for guard in guards]
    verdicts = await asyncio.gather(*(limiters[i % 2].admit("key_a", 20, None, 10) for i in range(640)))
    assert sum(v.allowed for v in verdicts) == 20  # 320 concurrent calls per 64-connection pool
    assert all(g.failures == 0 for g in guards)
    refused = next(v for v in verdicts if not v.allowed)
    assert refused.limited_by == "requests" and refused.headers()["Retry-After"] == "40"


async def test_a_new_minute_is_a_new_window(guards: list[RedisGuard]) -> None:
    clock = Clock(1_000_070.0)  # 50 s into a window
    limiter = RateLimiter(guards[0], clock)
    assert [(await limiter.admit("key_b", 2, None, 1)).allowed for _ in range(3)] == [True, True, False]
    clock.now += 15.0  # the next minute: no sleeping
    assert (await limiter.admit("key_b", 2, None, 1)).allowed


async def test_tokens_are_corrected_by_actual_usage(guards: list[RedisGuard]) -> None:
    clock = Clock(1_000_000.0)
    limiter = RateLimiter(guards[0], clock)
    assert (await limiter.admit("key_c", None, 1000, 900)).allowed  # the admission estimate
    assert not (await limiter.admit("key_c", None, 1000, 200)).allowed
    await limiter.correct("key_c", 50 - 900)  # the request used 50 tokens
    verdict = await limiter.admit("key_c", None, 1000, 200)
    assert verdict.allowed and verdict.tokens == 250


async def test_with_redis_gone_each_replica_counts_for_itself() -> None:
    settings = RedisSettings(url="redis://127.0.0.1:1/0", op_timeout_ms=50, retry_interval_s=60)
    guard = RedisGuard(build_redis(settings), settings)
    try:
        limiter = RateLimiter(guard, Clock(1_000_000.0))
        allowed = [(await limiter.admit("key_d", 3, None, 1)).allowed for _ in range(5)]
        assert allowed == [True, True, True, False, False]
        assert guard.state == "down"
    finally:
        await guard.aclose()


async def test_no_redis_counts_in_process() -> None:
    limiter = RateLimiter(None, Clock(1_000_000.0))
    assert [(await limiter.admit("key_e", 1, None, 1)).allowed for _ in range(2)] == [True, False]
    assert isinstance(redis.Redis, type)
