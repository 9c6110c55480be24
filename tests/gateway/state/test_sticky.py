"""Sticky floors: the bounded in-process map, and Redis shared by replicas (failure mode open)."""

from __future__ import annotations

import asyncio

from gateway.local import processes as procs
from gateway.settings import RedisSettings
from gateway.state.redis import RedisGuard, build_redis
from gateway.state.sticky import StickyStore


async def test_in_process_floors_expire_ttl_after_the_last_turn() -> None:
    store = StickyStore("p")
    assert await store.floor("c", 100.0) is None
    await store.raise_to("c", "frontier", 10.0, 100.0)
    assert await store.floor("c", 109.0) == "frontier"
    await store.keep("c", 10.0, 109.0)  # a turn that stayed lower keeps the floor another ttl
    assert await store.floor("c", 118.0) == "frontier"
    assert await store.floor("c", 119.5) is None  # 10 s after the last turn: gone
    await store.keep("c", 10.0, 120.0)  # keeping an expired conversation does not bring it back
    assert await store.floor("c", 120.0) is None


async def test_the_in_process_map_is_bounded_least_recently_used_first() -> None:
    store = StickyStore("p", max_entries=2)
    await store.raise_to("a", "mid", 60, 0.0)
    await store.raise_to("b", "mid", 60, 0.0)
    assert await store.floor("a", 1.0) == "mid"  # a is now the most recently used
    await store.raise_to("c", "mid", 60, 2.0)
    assert len(store) == 2
    assert await store.floor("b", 3.0) is None and await store.floor("a", 3.0) == "mid"


async def test_redis_floors_are_shared_expire_and_fail_open(redis_url: str) -> None:
    settings = RedisSettings(url=redis_url)
    one, two = RedisGuard(build_redis(settings), settings), RedisGuard(build_redis(settings), settings)
    try:
        a, b = StickyStore("shared", one), StickyStore("shared", two)  # two replicas
        await a.raise_to("conv", "frontier", 0.5, 0.0)
        assert await b.floor("conv", 0.0) == "frontier"
        await b.keep("conv", 1.5, 0.0)
        await asyncio.sleep(0.8)
        assert await a.floor("conv", 0.0) == "frontier"  # kept past the first ttl
        await asyncio.sleep(1.0)
        assert await a.floor("conv", 0.0) is None  # expired in Redis
    finally:
        await one.aclose()
        await two.aclose()
    down = RedisSettings(url=f"redis://127.0.0.1:{procs.free_port()}/0", op_timeout_ms=50)
    guard = RedisGuard(build_redis(down), down)
    try:
        store = StickyStore("shared", guard)
        await store.raise_to("conv", "frontier", 60, 0.0)  # dropped, no error
        assert await store.floor("conv", 0.0) is None  # open: no floor
        assert guard.failures >= 1
    finally:
        await guard.aclose()
