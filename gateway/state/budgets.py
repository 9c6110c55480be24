"""Spend windows in Redis (or in process): snapshots, atomic reservations, settlement.

Before an upstream call the gateway reserves the request's estimated cost (prompt
tokens plus max tokens, priced at the chosen tier) with one atomic check-and-add, so
replicas sharing a Redis cannot jointly overspend by more than the estimates miss by;
after the call it settles the difference between the actual cost and the estimate.
Keys are per scope and window (``triage:budget:<scope>:<window start>``) and expire
after two windows. Failure mode ``open``: while Redis is unavailable requests are served
and nothing is reserved (the guard logs a throttled warning), since refusing all traffic
because the budget store is down would be worse; a settlement then adds only the
actual cost. The window clock is the caller's ``now``.
"""

from __future__ import annotations

import contextlib
from typing import Any

from gateway.settings import BudgetSettings
from gateway.state.redis import RedisGuard, RedisUnavailable
from policies.types import BudgetSnapshot

WINDOW_S = {"hour": 3600, "day": 86400}

RESERVE_LUA = """
local spent = tonumber(redis.call('GET', KEYS[1]) or '0')
if spent + tonumber(ARGV[1]) > tonumber(ARGV[2]) then return {0, tostring(spent)} end
local now = redis.call('INCRBYFLOAT', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[3])
return {1, now}
"""


class BudgetStore:
    def __init__(self, settings: BudgetSettings, guard: RedisGuard | None = None) -> None:
        self.settings = settings
        self._guard = guard
        self._local: dict[str, float] = {}
        self._reserve: Any = guard.register_script(RESERVE_LUA) if guard is not None else None

    @property
    def enabled(self) -> bool:
        return self.settings.limit_usd is not None

    def _key(self, scope: str, now: float) -> str:
        window = WINDOW_S[self.settings.window]
        return f"triage:budget:{scope}:{int(now // window) * window}"

    async def snapshot(self, scope: str, now: float, limit_usd: float) -> BudgetSnapshot:
        key = self._key(scope, now)
        spent = self._local.get(key, 0.0)
        if self._guard is not None:
            guard = self._guard
            with contextlib.suppress(RedisUnavailable):  # fail open: the snapshot shows what this process knows
                spent = float(await guard.call("budgets", lambda: guard.client.get(key)) or 0.0)
        return BudgetSnapshot(scope, limit_usd, spent, self.settings.soft_fraction)

    async def reserve(self, scope: str, amount_usd: float, now: float, limit_usd: float) -> tuple[str, float] | None:
        """Atomically add ``amount_usd`` if the scope's window stays within ``limit_usd``.

        Returns the window's key and the amount actually reserved (to settle against
        later), or ``None`` if refused. With Redis down the request is let through with
        nothing reserved (fail open), so its settlement adds only what it really cost.
        """
        key = self._key(scope, now)
        if self._reserve is None:
            spent = self._local.get(key, 0.0)
            if spent + amount_usd > limit_usd:
                return None
            self._local[key] = spent + amount_usd
            return key, amount_usd
        assert self._guard is not None
        args = [amount_usd, limit_usd, 2 * WINDOW_S[self.settings.window]]
        try:
            ok, _ = await self._guard.call("budgets", lambda: self._reserve(keys=[key], args=args))
        except RedisUnavailable:
            return key, 0.0  # fail open: nothing reserved, so nothing to take back
        return (key, amount_usd) if int(ok) else None

    async def settle(self, key: str, delta_usd: float) -> None:
        """Correct a reservation by the difference between actual and estimated cost."""
        if delta_usd == 0.0:
            return
        if self._guard is None:
            self._local[key] = self._local.get(key, 0.0) + delta_usd
            return
        guard = self._guard
        with contextlib.suppress(RedisUnavailable):  # fail open: this settlement is lost with the store
            await guard.call("budgets", lambda: guard.client.incrbyfloat(key, delta_usd))
