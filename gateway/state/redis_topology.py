"""The ``redis.asyncio`` client for each topology ``redis.url`` names (see ``gateway.config_redis``).

- one server: a ``BlockingConnectionPool`` (a burst waits up to the op timeout for a free
  connection instead of failing);
- Sentinel: ``Sentinel(...).master_for(service)`` on a blocking Sentinel pool. Each new
  connection asks the sentinels for the current primary; a connection that finds the old
  primary gone (or demoted: ``READONLY``) is dropped, so after a failover the next calls
  reach the new primary by themselves. Closing the client closes the sentinel connections;
- Cluster: ``RedisCluster`` on the startup nodes. It routes each key to its slot's primary,
  follows ``MOVED``/``ASK`` and re-reads the slot map after a connection error, which is how
  it finds a promoted replica. ``max_connections`` is per node and, unlike the other two,
  does not block: a call past it fails (and the guard backs off).

Every multi-key operation of the stores keeps its keys in one slot with a hash tag
(``{...}``), which Cluster requires and the other topologies ignore.
"""

from __future__ import annotations

from typing import Any

import redis.asyncio as redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.sentinel import Sentinel, SentinelConnectionPool

from gateway.config_redis import RedisTopology, parse_redis_url
from gateway.settings import RedisSettings

HEALTH_CHECK_S = 30


class BlockingSentinelPool(SentinelConnectionPool, redis.BlockingConnectionPool):
    """Sentinel's pool (finds the primary) with the blocking pool's wait for a free connection."""


class SentinelPrimary(redis.Redis):
    """The primary's client; also closes the connections to the sentinels."""

    owning_sentinel: Sentinel | None = None  # not ``sentinel``: that is the SENTINEL command

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        await super().aclose(close_connection_pool)
        if self.owning_sentinel is not None:
            await self.owning_sentinel.aclose()


def topology(settings: RedisSettings) -> RedisTopology:
    assert settings.url is not None
    return parse_redis_url(settings.url, settings.cluster)


def build_client(settings: RedisSettings) -> Any:
    """The shared client for ``settings.url``: a plain, Sentinel-managed or Cluster client."""
    shape = topology(settings)
    if shape.kind == "sentinel":
        return _sentinel(shape, settings)
    if shape.kind == "cluster":
        return _cluster(shape, settings)
    pool = redis.BlockingConnectionPool.from_url(
        shape.url,
        socket_timeout=settings.op_timeout_ms / 1000,
        socket_connect_timeout=settings.connect_timeout_ms / 1000,
        max_connections=settings.max_connections,
        timeout=settings.op_timeout_ms / 1000,
        health_check_interval=HEALTH_CHECK_S,
    )
    return redis.Redis.from_pool(pool)


def _sentinel(shape: RedisTopology, settings: RedisSettings) -> SentinelPrimary:
    assert shape.service is not None
    sockets = {
        "socket_timeout": settings.op_timeout_ms / 1000,
        "socket_connect_timeout": settings.connect_timeout_ms / 1000,
    }
    sentinel = Sentinel(list(shape.nodes), sentinel_kwargs=sockets)  # type: ignore[no-untyped-call,unused-ignore]
    client = sentinel.master_for(
        shape.service,
        redis_class=SentinelPrimary,
        connection_pool_class=BlockingSentinelPool,
        db=shape.db,
        username=shape.username,
        password=shape.password,
        ssl=shape.tls,
        max_connections=settings.max_connections,
        timeout=settings.op_timeout_ms / 1000,
        health_check_interval=HEALTH_CHECK_S,
        **sockets,
    )
    assert isinstance(client, SentinelPrimary)
    client.owning_sentinel = sentinel
    return client


def _cluster(shape: RedisTopology, settings: RedisSettings) -> RedisCluster:
    return RedisCluster(
        startup_nodes=[ClusterNode(host, port) for host, port in shape.nodes],
        username=shape.username,
        password=shape.password,
        ssl=shape.tls,
        socket_timeout=settings.op_timeout_ms / 1000,
        socket_connect_timeout=settings.connect_timeout_ms / 1000,
        max_connections=settings.max_connections,
        health_check_interval=HEALTH_CHECK_S,
    )
