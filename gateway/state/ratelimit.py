"""Per-key rate limits (requests and tokens per minute), atomic in Redis.

One Lua script checks and counts both limits in the current minute window, so
replicas sharing a Redis enforce one limit together. Tokens are counted at admission
from an estimate (prompt bytes / 4 plus max tokens, or the expected output) and
corrected by the actual usage afterwards. Keys: ``triage:rl:{<key id>}:<minute>:{r,t}``
(one hash tag, so the script's two keys share a Redis Cluster slot). Failure mode
``local``: without Redis, or while it is unavailable (the guard warns), each process
counts for itself. The clock
(wall time, for minute windows shared by replicas) is injectable for tests.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.state.redis import RedisGuard, RedisUnavailable

WINDOW_S = 60


def limit_keys(key_id: str, window: int) -> list[str]:
    """The script's two counters; the hash tag ``{key id}`` keeps them in one Redis Cluster slot."""
    return [f"triage:rl:{{{key_id}}}:{window}:r", f"triage:rl:{{{key_id}}}:{window}:t"]


LIMIT_LUA = """
local requests = tonumber(redis.call('GET', KEYS[1]) or '0')
local tokens = tonumber(redis.call('GET', KEYS[2]) or '0')
local rpm, tpm, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if rpm > 0 and requests + 1 > rpm then return {0, 1, requests, tokens} end
if tpm > 0 and tokens + cost > tpm then return {0, 2, requests, tokens} end
requests = redis.call('INCR', KEYS[1])
tokens = redis.call('INCRBY', KEYS[2], cost)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {1, 0, requests, tokens}
"""


@dataclass(frozen=True, slots=True)
class Verdict:
    allowed: bool
    limited_by: str | None  # "requests" or "tokens" when refused
    rpm: int | None
    tpm: int | None
    requests: int  # counted in this window, this request included when allowed
    tokens: int
    reset_s: float  # until the window ends

    def headers(self) -> dict[str, str]:
        """OpenAI's ``x-ratelimit-*`` headers (and ``Retry-After`` when refused)."""
        headers: dict[str, str] = {}
        reset = f"{math.ceil(self.reset_s)}s"
        if self.rpm:
            headers["x-ratelimit-limit-requests"] = str(self.rpm)
            headers["x-ratelimit-remaining-requests"] = str(max(self.rpm - self.requests, 0))
            headers["x-ratelimit-reset-requests"] = reset
        if self.tpm:
            headers["x-ratelimit-limit-tokens"] = str(self.tpm)
            headers["x-ratelimit-remaining-tokens"] = str(max(self.tpm - self.tokens, 0))
            headers["x-ratelimit-reset-tokens"] = reset
        if not self.allowed:
            headers["Retry-After"] = str(max(math.ceil(self.reset_s), 1))
        return headers


class RateLimiter:
    def __init__(self, guard: RedisGuard | None, clock: Callable[[], float] = time.time) -> None:
        self._guard = guard
        self._clock = clock
        self._script: Any = guard.register_script(LIMIT_LUA) if guard is not None else None
        self._local: dict[str, int] = {}

    async def admit(self, key_id: str, rpm: int | None, tpm: int | None, tokens: int) -> Verdict:
        now = self._clock()
        window = int(now // WINDOW_S)
        reset = (window + 1) * WINDOW_S - now
        keys = limit_keys(key_id, window)
        args = [rpm or 0, tpm or 0, tokens, WINDOW_S * 2]
        result: list[int] | None = None
        if self._guard is not None:
            try:
                result = [
                    int(v) for v in await self._guard.call("ratelimit", lambda: self._script(keys=keys, args=args))
                ]
            except RedisUnavailable:  # count in process, so one replica still limits
                result = None
        if result is None:
            result = self._local_admit(keys, rpm or 0, tpm or 0, tokens)
        allowed, which, requests, counted = result
        limited = None if allowed else ("requests" if which == 1 else "tokens")
        return Verdict(bool(allowed), limited, rpm, tpm, requests, counted, reset)

    def _local_admit(self, keys: list[str], rpm: int, tpm: int, tokens: int) -> list[int]:
        if len(self._local) > 10000:
            self._local.clear()
        requests, counted = self._local.get(keys[0], 0), self._local.get(keys[1], 0)
        if rpm and requests + 1 > rpm:
            return [0, 1, requests, counted]
        if tpm and counted + tokens > tpm:
            return [0, 2, requests, counted]
        self._local[keys[0]], self._local[keys[1]] = requests + 1, counted + tokens
        return [1, 0, requests + 1, counted + tokens]

    async def correct(self, key_id: str, delta_tokens: int) -> None:
        """Replace the admission estimate by the actual tokens."""
        if delta_tokens == 0:
            return
        key = limit_keys(key_id, int(self._clock() // WINDOW_S))[1]
        if self._guard is not None:
            guard = self._guard
            try:
                await guard.call("ratelimit", lambda: guard.client.incrby(key, delta_tokens))
                return
            except RedisUnavailable:
                pass  # correct the in-process count instead
        self._local[key] = self._local.get(key, 0) + delta_tokens
