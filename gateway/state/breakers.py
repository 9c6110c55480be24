"""Circuit breakers per tier: local snapshots, shared opens and closes through Redis.

Each replica counts its own calls (``policies.health`` computes the transitions). When
a replica opens a tier's breaker it writes the opening time to Redis; every replica
reads those every ``breaker.sync_interval_s`` and treats the tier as open too, so one
replica's evidence moves traffic everywhere within about half a second. A successful
half-open probe deletes the shared key. Half-open admits one probe at a time per
replica (``claim_probe``); its result closes or reopens the breaker. Without Redis the
same state lives in process. Keys: ``triage:{breakers}:<tier>`` (one hash tag, so the sync's
``MGET`` of every tier stays in one Redis Cluster slot). Failure mode ``local``: while Redis is unavailable (the
guard warns, throttled) each replica's own breakers decide. The runtime starts ``sync_forever`` and cancels it on shutdown.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterable
from dataclasses import replace

from gateway.state.redis import RedisGuard, RedisUnavailable
from policies.health import BreakerConfig, BreakerSnapshot, breaker_state, claim_probe, on_result
from policies.types import BreakerState

log = logging.getLogger("triage.breakers")


def breaker_key(tier: str) -> str:
    """Where a tier's shared opening time lives; the tag ``{breakers}`` puts every tier in one slot."""
    return f"triage:{{breakers}}:{tier}"


class Breakers:
    def __init__(self, tiers: Iterable[str], config: BreakerConfig, guard: RedisGuard | None = None) -> None:
        self.config = config
        self._local = {tier: BreakerSnapshot(window_start=time.time()) for tier in tiers}
        self._shared: dict[str, float] = {}
        self._guard = guard
        self._tasks: set[asyncio.Task[None]] = set()

    def _merged(self, tier: str) -> BreakerSnapshot:
        local = self._local[tier]
        shared = self._shared.get(tier)
        if shared is not None and (local.opened_at is None or shared > local.opened_at):
            return replace(local, opened_at=shared)
        return local

    def health(self, now: float) -> dict[str, BreakerState]:
        return {tier: breaker_state(self._merged(tier), self.config, now) for tier in self._local}

    def claim_probe(self, tier: str, now: float) -> bool:
        """For a half-open tier: may this request be its one probe? (Closed tiers: always.)"""
        if tier not in self._local or breaker_state(self._merged(tier), self.config, now) != "half_open":
            return True
        claimed = claim_probe(self._local[tier], self.config, now)
        if claimed is None:
            return False
        self._local[tier] = claimed
        return True

    def record(self, tier: str, ok: bool, now: float) -> None:
        """One call's result; publishes an open or a close when the state changes."""
        if tier not in self._local:
            return
        merged = self._merged(tier)
        after = on_result(merged, ok, self.config, now)
        self._local[tier] = after
        if after.opened_at is not None and after.opened_at != merged.opened_at:
            log.warning(
                "circuit breaker for tier %s opened (%d consecutive failures)", tier, after.consecutive_failures
            )
            self._shared[tier] = after.opened_at
            self._publish(tier, after.opened_at)
        elif merged.opened_at is not None and after.opened_at is None:
            log.warning("circuit breaker for tier %s closed after a successful probe", tier)
            self._shared.pop(tier, None)
            self._publish(tier, None)

    def _publish(self, tier: str, opened_at: float | None) -> None:
        if self._guard is None:
            return
        task = asyncio.get_running_loop().create_task(self._write(tier, opened_at))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, tier: str, opened_at: float | None) -> None:
        assert self._guard is not None
        client, key = self._guard.client, breaker_key(tier)
        ttl = max(int(self.config.cooldown_s * 10), 60)
        try:
            if opened_at is None:
                await self._guard.call("breakers", lambda: client.delete(key))
            else:
                await self._guard.call("breakers", lambda: client.set(key, repr(opened_at), ex=ttl))
        except RedisUnavailable:
            log.debug("could not share breaker state for %s (redis unavailable)", tier)

    async def sync_forever(self, interval_s: float) -> None:
        """Read every replica's opens from Redis, forever (a task made in ``lifespan``)."""
        if self._guard is None:
            return
        guard, tiers = self._guard, list(self._local)
        keys = [breaker_key(tier) for tier in tiers]
        while True:
            try:
                values = await guard.call("breakers", lambda: guard.client.mget(keys))
                self._shared = {t: float(v) for t, v in zip(tiers, values, strict=True) if v is not None}
            except RedisUnavailable:
                pass  # keep the last shared view; local breakers keep deciding
            await asyncio.sleep(interval_s)
