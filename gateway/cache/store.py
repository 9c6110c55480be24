"""Response cache stores: Redis when ``redis.url`` is set, else a bounded in-process LRU.

Both implement ``get(key) -> bytes | None`` and ``set(key, value, ttl_s)`` and never
raise: a cache that fails is bypassed, not fatal. The Redis store gives every call a
short timeout (``redis.op_timeout_ms``); after a failure it skips Redis for
``retry_interval_s`` and then probes again (the pool reconnects by itself), warns at
most once per ``warn_interval_s``, and reports its state for ``/readyz`` and metrics.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import Any, Literal, Protocol

from gateway.settings import CacheSettings, RedisSettings

log = logging.getLogger("triage.cache")
CacheState = Literal["ok", "down"]


class CacheStore(Protocol):
    backend: str

    @property
    def state(self) -> CacheState: ...

    async def get(self, key: str) -> bytes | None:
        """The stored value, or ``None`` on a miss or when the store is unavailable."""
        ...

    async def set(self, key: str, value: bytes, ttl_s: int) -> bool:
        """Store ``value`` for ``ttl_s`` seconds; ``False`` if it could not be stored."""
        ...

    async def aclose(self) -> None: ...


class MemoryCache:
    """An LRU bounded by entry count and total bytes, with a TTL per entry."""

    backend = "memory"
    state: CacheState = "ok"

    def __init__(self, max_bytes: int, max_entries: int) -> None:
        self._entries: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._bytes = 0
        self.max_bytes = max_bytes
        self.max_entries = max_entries

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def size_bytes(self) -> int:
        return self._bytes

    async def get(self, key: str) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= time.monotonic():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_s: int) -> bool:
        if len(value) > self.max_bytes:
            return False
        if key in self._entries:
            self._remove(key)
        self._entries[key] = (time.monotonic() + ttl_s, value)
        self._bytes += len(value)
        while self._bytes > self.max_bytes or len(self._entries) > self.max_entries:
            oldest = next(iter(self._entries))
            self._remove(oldest)
        return True

    def _remove(self, key: str) -> None:
        _, value = self._entries.pop(key)
        self._bytes -= len(value)

    async def aclose(self) -> None:
        self._entries.clear()
        self._bytes = 0


class RedisCache:
    """``redis.asyncio`` with a pool made at start-up; bypassed while Redis misbehaves."""

    backend = "redis"

    def __init__(self, settings: RedisSettings, client: Any | None = None) -> None:
        import redis.asyncio as redis

        self._settings = settings
        self._client: Any = client if client is not None else build_redis(settings)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError, TimeoutError)
        self._down_until = 0.0
        self._last_warning = float("-inf")
        self.failures = 0

    @property
    def state(self) -> CacheState:
        return "down" if time.monotonic() < self._down_until else "ok"

    def _failed(self, action: str, exc: BaseException) -> None:
        now = time.monotonic()
        self.failures += 1
        self._down_until = now + self._settings.retry_interval_s
        if now - self._last_warning >= self._settings.warn_interval_s:
            self._last_warning = now
            log.warning(
                "redis cache %s failed (%s: %s); bypassing the cache and retrying in %.1fs",
                action,
                type(exc).__name__,
                exc,
                self._settings.retry_interval_s,
            )

    async def get(self, key: str) -> bytes | None:
        if time.monotonic() < self._down_until:
            return None
        try:
            value: bytes | None = await self._client.get(key)
        except self._errors as exc:
            self._failed("read", exc)
            return None
        return value

    async def set(self, key: str, value: bytes, ttl_s: int) -> bool:
        if time.monotonic() < self._down_until:
            return False
        try:
            await self._client.set(key, value, ex=ttl_s)
        except self._errors as exc:
            self._failed("write", exc)
            return False
        return True

    async def aclose(self) -> None:
        await self._client.aclose()


def build_redis(settings: RedisSettings) -> Any:
    """The one ``redis.asyncio`` client (and pool) the gateway shares, made at start-up."""
    import redis.asyncio as redis

    assert settings.url is not None
    return redis.Redis.from_url(
        settings.url,
        socket_timeout=settings.op_timeout_ms / 1000,
        socket_connect_timeout=settings.connect_timeout_ms / 1000,
        max_connections=settings.max_connections,
        health_check_interval=30,
    )


def build_cache(cache: CacheSettings, redis_settings: RedisSettings, client: Any | None = None) -> CacheStore:
    if redis_settings.url is not None:
        return RedisCache(redis_settings, client)
    return MemoryCache(cache.memory_max_bytes, cache.memory_max_entries)
