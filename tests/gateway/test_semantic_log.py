"""The semantic cache's shared stream on a real Redis: rebuild, keeping current, Redis down."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gateway.cache.guards import facts
from gateway.cache.semantic import SemanticCache
from gateway.cache.semantic_index import SemanticIndex
from gateway.cache.semantic_log import STREAM, Record, SemanticLog
from gateway.cache.semantic_query import SemanticQuery
from gateway.local import processes as procs
from gateway.settings import RedisSettings
from gateway.state.redis import RedisGuard, build_redis
from tests.gateway.test_semantic_cache import ANCHOR, PARAPHRASE, VECTORS, FakeEncoder


def replica(guard: RedisGuard) -> SemanticCache:
    return SemanticCache({"static": FakeEncoder(VECTORS)}, SemanticIndex(1000), SemanticLog(guard, 1000), 0.05)


def query(text: str, bucket: str) -> SemanticQuery:
    return SemanticQuery(bucket, text, 0.93, "static")


async def found(cache: SemanticCache, text: str, bucket: str) -> tuple[str, float] | None:
    async def fetch(key: str) -> str:
        return key

    return await cache.find(query(text, bucket), fetch)


async def test_a_second_replica_rebuilds_from_redis_and_keeps_current(redis_url: str) -> None:
    guard = RedisGuard(build_redis(RedisSettings(url=redis_url)), RedisSettings(url=redis_url))
    try:
        await guard.client.delete(STREAM)
        first = replica(guard)
        await first.remember(query(ANCHOR, "b1"), "key-1", 60)
        assert await found(first, PARAPHRASE, "b1") is not None, "searchable at once where it was stored"
        second = replica(guard)
        assert await second.sync() == 1, "rebuilt from the stream"
        hit = await found(second, PARAPHRASE, "b1")
        assert hit is not None and hit[0] == "key-1"
        await first.remember(query(ANCHOR, "b2"), "key-2", 60)
        assert await found(second, PARAPHRASE, "b2") is None
        assert await second.sync() == 1, "then only what was added since"
        assert await found(second, PARAPHRASE, "b2") is not None
        assert await first.sync() == 2 and len(first.index) == 2, "its own records are not duplicated"
        await first.aclose()
        await second.aclose()
    finally:
        await guard.aclose()


async def test_records_that_are_expired_or_not_records_are_skipped(redis_url: str) -> None:
    guard = RedisGuard(build_redis(RedisSettings(url=redis_url)), RedisSettings(url=redis_url))
    try:
        await guard.client.delete(STREAM)
        log = SemanticLog(guard, 1000)
        vector = np.asarray([1.0, 0.0, 0.0], dtype=np.float32).tobytes()
        assert await log.append(Record("b", "old", vector, facts(ANCHOR).encode(), 1.0))
        assert await log.append(Record("b", "junk", vector, b"not facts", 4e9))
        await guard.client.xadd(STREAM, {"nonsense": "1"})
        cache = replica(guard)
        assert await cache.sync() == 0 and len(cache.index) == 0
        await cache.aclose()
    finally:
        await guard.aclose()


async def test_with_redis_down_nothing_fails_and_the_replica_catches_up_later(tmp_path: Path) -> None:
    port = procs.free_port()
    settings = RedisSettings(url=f"redis://127.0.0.1:{port}/0", retry_interval_s=0.05)
    with procs.redis_server(tmp_path, port=port) as (_url, process):
        guard = RedisGuard(build_redis(settings), settings)
        cache = replica(guard)
        procs.stop(process)
        await cache.remember(query(ANCHOR, "b"), "key", 60)
        assert await found(cache, PARAPHRASE, "b") is not None, "still in this replica's own index"
        assert await cache.sync() == 0
        await cache.aclose()
        await guard.aclose()
