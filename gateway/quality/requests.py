"""Recent requests, by id, for feedback: who asked (tenant), which profile, which tier answered.

With ``redis.url`` one key per request (``triage:req:<id>``, expiring after
``quality.feedback_ttl_s``), shared by every replica, so feedback may reach any replica.
Without Redis, a bounded in-process map (the newest 100,000 requests).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import orjson

from gateway.state.redis import RedisGuard, RedisUnavailable

PREFIX = "triage:req:"
MEMORY_ENTRIES = 100_000


def _key(tenant: str, request_id: str) -> str:
    return f"{PREFIX}{tenant}:{request_id}"


@dataclass(frozen=True, slots=True)
class RequestRef:
    request_id: str
    tenant: str  # the caller's namespace: feedback must come from the same tenant
    profile: str
    tier: str
    model: str
    ts: float
    opted_out: bool = False  # the key opted out of the outcome store


class RequestIndex:
    def __init__(self, guard: RedisGuard | None, ttl_s: int, clock: Callable[[], float] = time.time) -> None:
        self._guard = guard
        self._ttl_s = ttl_s
        self._clock = clock
        self._memory: OrderedDict[str, RequestRef] = OrderedDict()

    async def remember(self, ref: RequestRef) -> None:
        if self._guard is None:
            self._memory[_key(ref.tenant, ref.request_id)] = ref
            while len(self._memory) > MEMORY_ENTRIES:
                self._memory.popitem(last=False)
            return
        client, value = self._guard.client, orjson.dumps(asdict(ref))
        try:
            key = _key(ref.tenant, ref.request_id)
            await self._guard.call("requests", lambda: client.set(key, value, ex=self._ttl_s))
        except RedisUnavailable:
            return

    async def lookup(self, tenant: str, request_id: str) -> RequestRef | None:
        """The tenant's request with this id (ids are per tenant: clients may choose them)."""
        if self._guard is None:
            ref = self._memory.get(_key(tenant, request_id))
            return ref if ref is not None and self._clock() - ref.ts <= self._ttl_s else None
        client = self._guard.client
        try:
            raw: Any = await self._guard.call("requests", lambda: client.get(_key(tenant, request_id)))
        except RedisUnavailable:
            return None
        return RequestRef(**orjson.loads(raw)) if raw is not None else None
