"""The client each ``redis.url`` form builds (no server needed: clients connect lazily)."""

from __future__ import annotations

import redis.asyncio as redis
from redis.asyncio.cluster import RedisCluster

from gateway.settings import RedisSettings
from gateway.state.redis import build_redis
from gateway.state.redis_topology import BlockingSentinelPool, SentinelPrimary


async def test_a_single_server_gets_a_blocking_pool() -> None:
    for url, connection in [
        ("redis://127.0.0.1:1/3", redis.Connection),
        ("rediss://127.0.0.1:1/0", redis.SSLConnection),
        ("unix:///tmp/none.sock", redis.UnixDomainSocketConnection),
    ]:
        client = build_redis(RedisSettings(url=url, max_connections=7))
        pool = client.connection_pool
        assert isinstance(pool, redis.BlockingConnectionPool) and pool.connection_class is connection
        assert pool.max_connections == 7
        await client.aclose()


async def test_sentinel_gets_the_primary_through_a_blocking_sentinel_pool() -> None:
    settings = RedisSettings(url="redis+sentinel://:pw@127.0.0.1:1,127.0.0.1:2/mymaster/4", op_timeout_ms=80)
    client = build_redis(settings)
    assert isinstance(client, SentinelPrimary) and client.owning_sentinel is not None
    pool = client.connection_pool
    assert isinstance(pool, BlockingSentinelPool) and isinstance(pool, redis.BlockingConnectionPool)
    assert pool.service_name == "mymaster" and pool.is_master and pool.timeout == 0.08
    assert pool.connection_kwargs["db"] == 4 and pool.connection_kwargs["password"] == "pw"
    assert [s.connection_pool.connection_kwargs["port"] for s in client.owning_sentinel.sentinels] == [1, 2]
    await client.aclose()


async def test_cluster_gets_a_cluster_client_on_its_startup_nodes() -> None:
    for settings in [
        RedisSettings(url="redis+cluster://127.0.0.1:1,127.0.0.1:2"),
        RedisSettings(url="redis://127.0.0.1:1/0", cluster=True),
    ]:
        client = build_redis(settings)
        assert isinstance(client, RedisCluster)
        assert {n.port for n in client.nodes_manager.startup_nodes.values()} <= {1, 2}
        await client.aclose()
