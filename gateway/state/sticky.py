"""Sticky conversations' floors: the highest rung each conversation used, until ``ttl_s`` after its last turn.

With Redis one key per conversation, ``triage:sticky:<profile>:<conversation hash>``, holds the
tier's name and expires ``ttl_s`` after the last write (every turn writes: the new floor, or
only a new expiry when the turn did not go higher), so every replica sees the same floor.
Without Redis a bounded in-process map (least recently used conversation evicted first) does
the same for one replica. Failure mode ``open``: while Redis is unavailable a conversation has
no floor (it is routed by its score alone) and turns are not remembered; the guard warns,
throttled. Turns of one conversation arrive one after another, so a floor is read, then
written, without a transaction. The caller gives ``now``.
"""

from __future__ import annotations

import contextlib
from collections import OrderedDict

from gateway.state.redis import RedisGuard, RedisUnavailable

STORE = "sticky"


class StickyStore:
    """One profile's conversation floors (tier names), in Redis or in process."""

    def __init__(self, profile: str, guard: RedisGuard | None = None, max_entries: int = 100_000) -> None:
        self._prefix = f"triage:sticky:{profile}:"
        self._guard = guard
        self._max = max_entries
        self._local: OrderedDict[str, tuple[str, float]] = OrderedDict()  # conversation -> (tier, expires at)

    async def floor(self, conversation: str, now: float) -> str | None:
        """The highest rung the conversation used, or ``None`` (new, expired, or Redis unavailable)."""
        if self._guard is None:
            held = self._local.get(conversation)
            if held is None or held[1] <= now:
                self._local.pop(conversation, None)
                return None
            self._local.move_to_end(conversation)
            return held[0]
        guard, key = self._guard, self._prefix + conversation
        try:
            value = await guard.call(STORE, lambda: guard.client.get(key))
        except RedisUnavailable:
            return None  # fail open: routed by its score alone
        return value.decode() if isinstance(value, bytes) else value

    async def raise_to(self, conversation: str, tier: str, ttl_s: float, now: float) -> None:
        """Make ``tier`` the conversation's floor, for ``ttl_s`` from ``now``."""
        if self._guard is None:
            self._local[conversation] = (tier, now + ttl_s)
            self._local.move_to_end(conversation)
            while len(self._local) > self._max:
                self._local.popitem(last=False)
            return
        guard, key = self._guard, self._prefix + conversation
        with contextlib.suppress(RedisUnavailable):  # fail open: this turn is not remembered
            await guard.call(STORE, lambda: guard.client.set(key, tier, px=_ms(ttl_s)))

    async def keep(self, conversation: str, ttl_s: float, now: float) -> None:
        """Keep the conversation's floor for ``ttl_s`` from ``now`` (a turn that did not go higher)."""
        if self._guard is None:
            held = self._local.get(conversation)
            if held is not None:
                self._local[conversation] = (held[0], now + ttl_s)
                self._local.move_to_end(conversation)
            return
        guard, key = self._guard, self._prefix + conversation
        with contextlib.suppress(RedisUnavailable):
            await guard.call(STORE, lambda: guard.client.pexpire(key, _ms(ttl_s)))

    def __len__(self) -> int:
        return len(self._local)


def _ms(seconds: float) -> int:
    return max(int(seconds * 1000), 1)
