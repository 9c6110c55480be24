"""Cache stores (the embedded LRU and a real Redis) and stream assembly/replay."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import orjson
import pytest

from gateway.cache.entry import CacheEntry, StreamAssembler, replay_events
from gateway.cache.store import MemoryCache, RedisCache
from gateway.local import processes as procs
from gateway.settings import RedisSettings
from gateway.state.redis import RedisGuard, build_redis


def redis_cache(settings: RedisSettings) -> tuple[RedisCache, RedisGuard]:
    """The cache store on its own guard (the gateway shares one guard among its stores)."""
    guard = RedisGuard(build_redis(settings), settings)
    return RedisCache(guard), guard


async def test_memory_cache_is_bounded_by_bytes_and_entries() -> None:
    cache = MemoryCache(max_bytes=1000, max_entries=3)
    for i in range(5):
        assert await cache.set(f"k{i}", b"x" * 100, ttl_s=60)
    assert len(cache) == 3
    assert await cache.get("k0") is None and await cache.get("k4") == b"x" * 100
    await cache.get("k2")  # k2 becomes the most recently used
    assert await cache.set("big", b"y" * 800, ttl_s=60)
    assert cache.size_bytes <= 1000
    assert await cache.get("k2") == b"x" * 100, "the recently used entry survives"
    assert await cache.get("k3") is None, "the least recently used entry went first"
    assert not await cache.set("huge", b"z" * 1001, ttl_s=60)


async def test_memory_cache_ttl() -> None:
    now = [100.0]
    cache = MemoryCache(max_bytes=1000, max_entries=10, clock=lambda: now[0])
    await cache.set("k", b"v", ttl_s=1)
    assert await cache.get("k") == b"v"
    now[0] += 1.0
    assert await cache.get("k") is None
    assert cache.size_bytes == 0


async def test_redis_cache_round_trip_and_ttl(redis_url: str) -> None:
    cache, guard = redis_cache(RedisSettings(url=redis_url))
    try:
        assert await cache.set("triage:test:k", b"value", ttl_s=1)
        assert await cache.get("triage:test:k") == b"value"
        await asyncio.sleep(1.2)
        assert await cache.get("triage:test:k") is None
        assert cache.state == "ok"
    finally:
        await guard.aclose()


async def test_redis_down_is_bypassed_quickly_and_recovers(tmp_path: Path) -> None:
    port = procs.free_port()
    settings = RedisSettings(url=f"redis://127.0.0.1:{port}/0", retry_interval_s=0.2, op_timeout_ms=50)
    cache, guard = redis_cache(settings)
    try:
        started = time.perf_counter()
        assert await cache.get("k") is None  # nothing listens: bypassed, not raised
        assert not await cache.set("k", b"v", ttl_s=10)
        assert time.perf_counter() - started < 0.5
        assert cache.state == "down"
        with procs.redis_server(tmp_path, port=port):
            await asyncio.sleep(0.25)  # past retry_interval_s: the next call probes Redis again
            assert await cache.set("k", b"v", ttl_s=10)
            assert await cache.get("k") == b"v"
            assert cache.state == "ok"
    finally:
        await guard.aclose()


def _chunks() -> list[dict[str, object]]:
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    return [
        {**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]},
        {**head, "choices": [{"index": 0, "delta": {"content": "Hello"}, "finish_reason": None}]},
        {**head, "choices": [{"index": 0, "delta": {"content": " world"}, "finish_reason": None}]},
        {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]},
        {**head, "choices": [], "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}},
    ]


def test_stream_assembles_into_a_completion_and_replays_the_same() -> None:
    assembler = StreamAssembler()
    for chunk in _chunks():
        assembler.feed(chunk)
    whole = assembler.completion()
    assert whole is not None
    assert whole["choices"][0]["message"] == {"role": "assistant", "content": "Hello world"}
    assert whole["usage"]["total_tokens"] == 5
    events = [orjson.loads(e[6:]) for e in replay_events(whole, include_usage=True)]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in events if c["choices"])
    assert text == "Hello world"
    assert events[-1]["choices"] == [] and events[-1]["usage"]["completion_tokens"] == 2
    assert all(e["object"] == "chat.completion.chunk" for e in events)
    assert not any(e.get("usage") for e in replay_events(whole, include_usage=False) for e in [orjson.loads(e[6:])])


def test_unfinished_stream_is_not_assembled() -> None:
    assembler = StreamAssembler()
    for chunk in _chunks()[:3]:
        assembler.feed(chunk)
    assert assembler.completion() is None


def test_tool_calls_assemble_across_chunks() -> None:
    head = {"id": "c", "created": 1, "model": "m"}
    assembler = StreamAssembler()
    parts = [
        {"index": 0, "id": "call_1", "type": "function", "function": {"name": "get", "arguments": '{"ci'}},
        {"index": 0, "function": {"arguments": 'ty": "Paris"}'}},
    ]
    for part in parts:
        assembler.feed({**head, "choices": [{"index": 0, "delta": {"tool_calls": [part]}}]})
    assembler.feed({**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]})
    whole = assembler.completion()
    assert whole is not None
    call = whole["choices"][0]["message"]["tool_calls"][0]
    assert call == {"id": "call_1", "type": "function", "function": {"name": "get", "arguments": '{"city": "Paris"}'}}
    assert whole["choices"][0]["message"]["content"] is None


def test_entry_round_trip_and_rejects_garbage() -> None:
    entry = CacheEntry({"choices": []}, "cheap", "openai/sim-cheap", 0.001, time.time())
    assert CacheEntry.decode(entry.encode()) == entry
    assert CacheEntry.decode(b"not json") is None
    assert CacheEntry.decode(b'{"v": 99}') is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (None, (False, False, None)),
        ("no-cache", (True, False, None)),
        ("no-store", (False, True, None)),
        ("max-age=30", (False, False, 30.0)),
        ("No-Cache, max-age=5", (True, False, 5.0)),
    ],
)
def test_cache_control_parsing(header: str | None, expected: tuple[bool, bool, float | None]) -> None:
    from gateway.cache.policy import CacheControl

    control = CacheControl.parse(header)
    assert (control.no_cache, control.no_store, control.max_age_s) == expected


# Keeps the (single-threaded) server busy for ARGV[1] microseconds: a slow Redis.
BUSY_LUA = """
local start = redis.call('TIME')
while true do
  local now = redis.call('TIME')
  if (now[1] - start[1]) * 1000000 + (now[2] - start[2]) > tonumber(ARGV[1]) then return 1 end
end
"""


async def test_slow_redis_times_out_and_is_bypassed(redis_url: str) -> None:
    import redis.asyncio as redis

    cache, guard = redis_cache(RedisSettings(url=redis_url, op_timeout_ms=50, retry_interval_s=0.2))
    blocker = redis.Redis.from_url(redis_url)
    try:
        assert await cache.set("triage:test:slow", b"v", ttl_s=10)
        sleeping = asyncio.create_task(blocker.eval(BUSY_LUA, 0, 600_000))
        await asyncio.sleep(0.05)  # the server is now busy for 0.6 s
        started = time.perf_counter()
        assert await cache.get("triage:test:slow") is None
        assert time.perf_counter() - started < 0.3, "a slow Redis must not hold the request"
        assert cache.state == "down"
        await sleeping
        await asyncio.sleep(0.25)
        assert await cache.get("triage:test:slow") == b"v", "the cache comes back by itself"
    finally:
        await blocker.aclose()
        await guard.aclose()
