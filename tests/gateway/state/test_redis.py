"""The one Redis guard: timeouts, back-off on an injected clock, throttled warnings, pool waits."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest
import redis.asyncio as redis

from gateway.local import processes as procs
from gateway.settings import RedisSettings
from gateway.state.redis import RedisGuard, RedisUnavailable, build_guard, build_redis


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_a_failure_backs_off_by_the_clock_and_a_ping_ends_it(tmp_path: Path) -> None:
    port = procs.free_port()
    settings = RedisSettings(url=f"redis://127.0.0.1:{port}/0", retry_interval_s=5, op_timeout_ms=50)
    clock = Clock()
    guard = RedisGuard(build_redis(settings), settings, clock)
    try:
        with pytest.raises(RedisUnavailable):
            await guard.call("cache", lambda: guard.client.get("k"))  # nothing listens
        assert guard.state == "down" and guard.failures == 1
        with procs.redis_server(tmp_path, port=port):
            with pytest.raises(RedisUnavailable, match="backing off"):
                await guard.call("cache", lambda: guard.client.get("k"))  # not even attempted
            assert guard.failures == 1
            clock.now += 5.0  # past retry_interval_s: the next call probes again
            assert await guard.call("cache", lambda: guard.client.set("k", "v")) is True
            assert guard.state == "ok"
            clock.now += 1.0
        assert await guard.ping() == "down"  # the server is gone: an active check notices at once
        assert guard.state == "down"
    finally:
        await guard.aclose()


async def test_warnings_are_throttled_per_store(caplog: pytest.LogCaptureFixture) -> None:
    settings = RedisSettings(url=f"redis://127.0.0.1:{procs.free_port()}/0", retry_interval_s=1, warn_interval_s=30)
    clock = Clock()
    guard = RedisGuard(build_redis(settings), settings, clock)
    caplog.set_level(logging.WARNING, logger="triage.redis")
    try:
        for _ in range(5):
            for store in ("cache", "budgets"):
                with pytest.raises(RedisUnavailable):
                    await guard.call(store, lambda: guard.client.get("k"))
                clock.now += 1.0  # each call is past the back-off, so each one is attempted
        messages = [r.getMessage() for r in caplog.records]
        assert len(messages) == 2, messages  # one per store in 30 s, not one per failure
        assert any("cache" in m and "bypassing" in m for m in messages)
        assert any("budgets" in m and "failing open" in m for m in messages)
        assert guard.failures == 10
    finally:
        await guard.aclose()


async def test_five_times_the_pool_waits_for_connections_instead_of_failing(redis_url: str) -> None:
    """320 concurrent calls on a 64-connection pool all succeed (the pool blocks, bounded)."""
    settings = RedisSettings(url=redis_url, max_connections=64, op_timeout_ms=2000, connect_timeout_ms=2000)
    guard = build_guard(settings)
    assert guard is not None
    key = "triage:test:pool"
    try:
        await guard.client.delete(key)

        async def slow_incr() -> int:
            value: int = await guard.client.eval(
                "redis.call('INCR', KEYS[1]); return redis.call('GET', KEYS[1])", 1, key
            )
            return value

        results = await asyncio.gather(
            *(guard.call("ratelimit", slow_incr) for _ in range(320)), return_exceptions=True
        )
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert int(await guard.client.get(key)) == 320
        assert guard.failures == 0
    finally:
        await guard.client.delete(key)
        await guard.aclose()


async def test_no_url_means_no_guard() -> None:
    assert build_guard(RedisSettings()) is None
    assert isinstance(build_redis(RedisSettings(url="redis://127.0.0.1:1/0")), redis.Redis)
