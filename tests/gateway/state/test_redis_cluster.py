"""Every Redis-backed store against a real local Redis Cluster (3 primaries, 3 replicas).

A ``CROSSSLOT`` error would not raise here: the guard turns every Redis error into the
store's failure mode. So each test also asserts that the guard saw no failure at all,
and ``test_hash_tags.py`` checks the slots directly.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from gateway.cache.store import RedisCache
from gateway.local import redis_topologies
from gateway.quality.requests import RequestIndex, RequestRef
from gateway.quality.store import RedisOutcomeStore, redis_rows
from gateway.settings import BudgetSettings, OutcomeStoreSettings, RedisSettings
from gateway.state.breakers import Breakers
from gateway.state.budgets import BudgetStore
from gateway.state.keys import KeyRecord, KeyStore, new_key
from gateway.state.ratelimit import RateLimiter
from gateway.state.redis import RedisGuard, build_redis
from gateway.state.sticky import StickyStore
from policies.health import BreakerConfig

pytestmark = pytest.mark.processes  # the cluster's redis-server processes (``make test-fast`` skips them)


@pytest.fixture(scope="module")
def cluster_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_topologies.redis_cluster(tmp_path_factory.mktemp("cluster")) as (url, _nodes):
        yield url


@pytest.fixture
async def guard(cluster_url: str) -> AsyncIterator[RedisGuard]:
    settings = RedisSettings(url=cluster_url, op_timeout_ms=2000, connect_timeout_ms=1000)
    made = RedisGuard(build_redis(settings), settings)
    try:
        yield made
    finally:
        assert made.failures == 0, "a store's call failed on the cluster (CROSSSLOT?)"
        await made.aclose()


def test_the_url_forms_make_a_cluster_client(cluster_url: str) -> None:
    from redis.asyncio.cluster import RedisCluster

    first = cluster_url.removeprefix("redis+cluster://").split(",")[0]
    assert isinstance(build_redis(RedisSettings(url=cluster_url)), RedisCluster)
    assert isinstance(build_redis(RedisSettings(url=f"redis://{first}/0", cluster=True)), RedisCluster)


async def test_budgets_reserve_and_settle(guard: RedisGuard) -> None:
    budgets = BudgetStore(BudgetSettings(limit_usd=1.0), guard)
    now = time.time()
    reserved = await budgets.reserve("key:key_a", 0.6, now, 1.0)
    assert reserved is not None and reserved[1] == 0.6
    assert await budgets.reserve("key:key_a", 0.6, now, 1.0) is None  # over the limit
    await budgets.settle(reserved[0], -0.5)  # it cost 0.1
    assert (await budgets.snapshot("key:key_a", now, 1.0)).spent_usd == pytest.approx(0.1)
    assert await budgets.reserve("global", 0.9, now, 1.0) is not None  # another scope, another slot


async def test_rate_limits_count_both_limits_in_one_script(guard: RedisGuard) -> None:
    limiter = RateLimiter(guard)
    verdicts = [await limiter.admit("key_rl", 3, 1000, 100) for _ in range(4)]
    assert [v.allowed for v in verdicts] == [True, True, True, False]
    assert verdicts[2].requests == 3 and verdicts[2].tokens == 300 and verdicts[3].limited_by == "requests"
    await limiter.correct("key_rl", -250)
    refused = await RateLimiter(guard).admit("key_rl", None, 200, 100)  # 50 + 100 fits, 150 + 100 would not
    assert refused.allowed and (await limiter.admit("key_rl", None, 200, 100)).limited_by == "tokens"


async def test_keys_create_verify_list_revoke(guard: RedisGuard) -> None:
    store = KeyStore(guard, verified_cache_s=60)
    made = []
    for name in ("one", "two", "three"):
        key_id, secret = new_key()
        record = KeyRecord(key_id, name, time.time(), tiers=("cheap",))
        await store.create(record, secret)
        made.append((record, secret))
    assert await store.lookup(made[0][1]) == made[0][0]
    assert {r.id for r in await store.list()} >= {r.id for r, _ in made}
    assert await store.revoke(made[1][0].id) is True
    assert await store.lookup(made[1][1]) is None and await store.revoke(made[1][0].id) is False
    assert made[1][0].id not in {r.id for r in await store.list()}


async def test_breakers_share_an_open_across_replicas(guard: RedisGuard) -> None:
    config = BreakerConfig(failure_threshold=1, cooldown_s=30)
    one, two = Breakers(["cheap", "frontier"], config, guard), Breakers(["cheap", "frontier"], config, guard)
    one.record("frontier", ok=False, now=time.time())
    syncing = asyncio.get_running_loop().create_task(two.sync_forever(0.05))
    try:
        for _ in range(100):
            if two.health(time.time())["frontier"] == "open":
                break
            await asyncio.sleep(0.05)
        assert two.health(time.time()) == {"cheap": "closed", "frontier": "open"}
    finally:
        syncing.cancel()


async def test_cache_sticky_and_the_quality_stores(guard: RedisGuard, tmp_path: Path) -> None:
    cache = RedisCache(guard)
    assert await cache.set("triage:cache:v1:ns:abc", b"answer", 60) and await cache.get("triage:cache:v1:ns:abc")
    sticky = StickyStore("auto", guard)
    await sticky.raise_to("conv", "frontier", 60, time.time())
    await sticky.keep("conv", 60, time.time())
    assert await sticky.floor("conv", time.time()) == "frontier"
    index = RequestIndex(guard, ttl_s=60)
    ref = RequestRef("req_1", "tenant", "auto", "cheap", "model", time.time())
    await index.remember(ref)
    assert await index.lookup("tenant", "req_1") == ref
    outcomes = RedisOutcomeStore(OutcomeStoreSettings(path=str(tmp_path), prompts=False, max_rows=100), guard)
    assert await outcomes.add({"ts": time.time(), "kind": "feedback", "score": 1})
    assert [row["kind"] for row in await redis_rows(guard.client)] == ["feedback"]
