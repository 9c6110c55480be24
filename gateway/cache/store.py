"""Response cache stores: Redis when ``redis.url`` is set, else a bounded in-process LRU.

Both implement ``get(key) -> bytes | None`` and ``set(key, value, ttl_s)`` and never
raise: a cache that fails is bypassed, not fatal (failure mode ``bypass``). The Redis
store makes its calls through ``gateway.state.redis.RedisGuard`` (timeout, back-off,
throttled warnings, the state ``/readyz`` and metrics report).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Literal, Protocol

from gateway.settings import CacheSettings
from gateway.state.redis import RedisGuard, RedisUnavailable

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

    def __init__(self, max_bytes: int, max_entries: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
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
        if expires <= self._clock():
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return value

    async def set(self, key: str, value: bytes, ttl_s: int) -> bool:
        if len(value) > self.max_bytes:
            return False
        if key in self._entries:
            self._remove(key)
        self._entries[key] = (self._clock() + ttl_s, value)
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
    """The cache in Redis, through the shared guard; bypassed while Redis misbehaves."""

    backend = "redis"

    def __init__(self, guard: RedisGuard) -> None:
        self._guard = guard

    @property
    def state(self) -> CacheState:
        return self._guard.state

    async def get(self, key: str) -> bytes | None:
        try:
            value: bytes | None = await self._guard.call("cache", lambda: self._guard.client.get(key))
        except RedisUnavailable:
            return None
        return value

    async def set(self, key: str, value: bytes, ttl_s: int) -> bool:
        try:
            await self._guard.call("cache", lambda: self._guard.client.set(key, value, ex=ttl_s))
        except RedisUnavailable:
            return False
        return True

    async def aclose(self) -> None:
        return None  # the guard owns the client


def build_cache(cache: CacheSettings, guard: RedisGuard | None) -> CacheStore:
    if guard is not None:
        return RedisCache(guard)
    return MemoryCache(cache.memory_max_bytes, cache.memory_max_entries)
