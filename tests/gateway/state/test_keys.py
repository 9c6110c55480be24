"""API keys stored before hash tags (``triage:keys:*``) are adopted once, and stay revoked."""

from __future__ import annotations

import time

import redis.asyncio as redis

from gateway.settings import RedisSettings
from gateway.state.keys import ADOPTED, LEGACY_PREFIX, KeyRecord, KeyStore, hash_key, new_key
from gateway.state.redis import RedisGuard, build_redis


async def test_legacy_keys_are_adopted_once(redis_url: str) -> None:
    settings = RedisSettings(url=redis_url, op_timeout_ms=1000)
    raw = redis.Redis.from_url(redis_url)
    await raw.flushdb()
    (old_id, old_key), (gone_id, gone_key) = new_key(), new_key()
    for key_id, key in ((old_id, old_key), (gone_id, gone_key)):
        record = KeyRecord(key_id, f"made by 0.x {key_id}", time.time(), tiers=("cheap",))
        await raw.set(f"{LEGACY_PREFIX}:hash:{hash_key(key)}", record.encode())
        await raw.set(f"{LEGACY_PREFIX}:id:{key_id}", hash_key(key))
        await raw.sadd(f"{LEGACY_PREFIX}:ids", key_id)
    guard = RedisGuard(build_redis(settings), settings)
    try:
        store = KeyStore(guard, verified_cache_s=60)
        found = await store.lookup(old_key)
        assert found is not None and found.id == old_id and found.tiers == ("cheap",)
        assert {r.id for r in await store.list()} == {old_id, gone_id}
        assert await store.revoke(gone_id)
        restarted = KeyStore(guard, verified_cache_s=60)  # a new process: the marker stops a second copy
        assert await restarted.lookup(gone_key) is None and await restarted.lookup(old_key) is not None
        assert await raw.get(ADOPTED) == b"2" and await raw.exists(f"{LEGACY_PREFIX}:ids")  # old replicas still work
        assert guard.failures == 0
    finally:
        await guard.aclose()
        await raw.aclose()
