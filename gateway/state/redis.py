"""The one way the gateway talks to Redis: ``RedisGuard``.

Every Redis-backed store (response cache, budgets, rate limits, API keys, breakers)
makes its calls through one guard, which gives each call the same treatment:

- a per-call timeout: ``redis.op_timeout_ms`` for the command and for waiting on a pooled
  connection (the pool blocks instead of failing when all connections are busy), plus
  ``redis.connect_timeout_ms`` when a new connection must be made;
- after a failure, Redis is skipped for ``redis.retry_interval_s`` (``down_until``), then
  the next call probes it again; the pool reconnects by itself;
- at most one warning per store per ``redis.warn_interval_s``;
- a state (``ok`` / ``down``) that ``/readyz`` and the ``triage_redis_up`` gauge report;
  ``ping()`` checks actively, so readiness does not wait for a request to notice.

What a store does while Redis is unavailable is its declared failure mode, stated once
in ``FAILURE_MODES`` below and in each store's docstring:

==============  ============  ==================================================
store           mode          while Redis is unavailable
==============  ============  ==================================================
cache           ``bypass``    requests skip the cache (``x-triage-cache: bypass``)
budgets         ``open``      requests are served; nothing is reserved
ratelimit       ``local``     each replica counts for itself
keys            ``closed``    only keys verified in the last ``auth.verified_cache_s``
breakers        ``local``     each replica's own breakers decide
sticky          ``open``      conversations have no floor: routed by their score alone
outcomes        ``bypass``    quality rows are dropped (and counted as failed)
requests        ``bypass``    request ids are not kept for feedback (404 later)
==============  ============  ==================================================
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

from gateway.settings import RedisSettings

log = logging.getLogger("triage.redis")
T = TypeVar("T")
FailureMode = Literal["bypass", "open", "local", "closed"]
RedisState = Literal["ok", "down"]
FAILURE_MODES: dict[str, FailureMode] = {
    "cache": "bypass",
    "budgets": "open",
    "ratelimit": "local",
    "keys": "closed",
    "breakers": "local",
    "sticky": "open",
    "outcomes": "bypass",
    "requests": "bypass",
}
_CONSEQUENCE: dict[FailureMode, str] = {
    "bypass": "bypassing it",
    "open": "failing open",
    "local": "counting in process",
    "closed": "failing closed",
}


class RedisUnavailable(Exception):
    """Redis could not answer this call (down, slow, or skipped while backing off)."""


class RedisGuard:
    """Wraps the shared ``redis.asyncio`` client; built once at start-up."""

    def __init__(self, client: Any, settings: RedisSettings, clock: Callable[[], float] = time.monotonic) -> None:
        from redis.exceptions import RedisClusterException, RedisError

        self.client: Any = client
        self._settings = settings
        self._clock = clock
        # one call: a free pooled connection (or a new one: connect timeout), then the command
        self._timeout_s = (settings.op_timeout_ms + settings.connect_timeout_ms) / 1000
        # RedisClusterException: a cluster client that reaches no node or cannot map a slot
        self._errors: tuple[type[BaseException], ...] = (RedisError, RedisClusterException, OSError, TimeoutError)
        self._down_until = float("-inf")
        self._last_warning: dict[str, float] = {}
        self.failures = 0

    @property
    def state(self) -> RedisState:
        return "down" if self._clock() < self._down_until else "ok"

    def register_script(self, source: str) -> Any:
        return self.client.register_script(source)

    async def call(self, store: str, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one Redis operation for ``store``; raise ``RedisUnavailable`` if it cannot.

        While backing off after a failure the call is not attempted at all.
        """
        if self._clock() < self._down_until:
            raise RedisUnavailable("redis is backing off after a failure")
        try:
            async with asyncio.timeout(self._timeout_s):
                return await operation()
        except self._errors as exc:
            self._failed(store, exc)
            raise RedisUnavailable(f"{type(exc).__name__}: {exc}") from exc

    async def ping(self) -> RedisState:
        """Check Redis now, backing off or not; a success ends the back-off."""
        try:
            async with asyncio.timeout(self._timeout_s):
                await self.client.ping()
        except self._errors as exc:
            self._failed("readiness", exc)
            return "down"
        self._down_until = float("-inf")
        return "ok"

    def _failed(self, store: str, exc: BaseException) -> None:
        now = self._clock()
        self.failures += 1
        self._down_until = now + self._settings.retry_interval_s
        if now - self._last_warning.get(store, float("-inf")) >= self._settings.warn_interval_s:
            self._last_warning[store] = now
            mode = FAILURE_MODES.get(store)
            consequence = _CONSEQUENCE[mode] if mode is not None else "skipping it"
            log.warning(
                "redis failed for %s (%s: %s); %s and retrying in %.1fs",
                store,
                type(exc).__name__,
                exc,
                consequence,
                self._settings.retry_interval_s,
            )

    async def aclose(self) -> None:
        await self.client.aclose()


def build_redis(settings: RedisSettings) -> Any:
    """The one ``redis.asyncio`` client (and pool) the gateway shares, made at start-up.

    One server, Sentinel or Cluster, as ``redis.url`` and ``redis.cluster`` say
    (``gateway.state.redis_topology``). The pool *blocks* for a free connection (up to the
    op timeout) rather than raising when ``max_connections`` calls are in flight: under a
    burst, callers queue briefly instead of failing over to their degraded mode (Cluster's
    pools are per node and do not wait).
    """
    from gateway.state.redis_topology import build_client

    return build_client(settings)


def build_guard(settings: RedisSettings) -> RedisGuard | None:
    """The guard for ``redis.url``, or ``None`` when state lives in process."""
    if settings.url is None:
        return None
    return RedisGuard(build_redis(settings), settings)
