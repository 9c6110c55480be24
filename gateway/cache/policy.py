"""When to use the response cache, for one request, and the lookup/store calls around it.

Only deterministic requests are cached: ``temperature`` 0, unless the profile (or the
global ``cache`` section) sets ``nondeterministic: true``. Request headers refine it:
``Cache-Control: no-cache`` skips the lookup, ``no-store`` skips the store, and
``max-age=N`` accepts only entries at most N seconds old. Entries larger than
``cache.max_entry_bytes`` are not stored. The outcome is ``x-triage-cache``:
``hit``, ``miss`` (looked up, not found), or ``bypass`` (not looked up: not cacheable,
``no-cache``, or the store is down).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from gateway.cache.entry import CacheEntry
from gateway.cache.key import cache_key
from gateway.cache.store import CacheStore
from gateway.protocol.schemas import ChatCompletionRequest
from gateway.settings import CacheSettings, Profile

CacheStatus = Literal["hit", "miss", "bypass"]


@dataclass(frozen=True, slots=True)
class CacheControl:
    no_cache: bool = False
    no_store: bool = False
    max_age_s: float | None = None

    @classmethod
    def parse(cls, header: str | None) -> CacheControl:
        if not header:
            return cls()
        no_cache = no_store = False
        max_age: float | None = None
        for directive in header.lower().split(","):
            name, _, value = directive.strip().partition("=")
            if name == "no-cache":
                no_cache = True
            elif name == "no-store":
                no_store = True
            elif name == "max-age" and value.strip().isdigit():
                max_age = float(value.strip())
        return cls(no_cache, no_store, max_age)


@dataclass(frozen=True, slots=True)
class CachePlan:
    """What the cache does for one request."""

    key: str | None
    lookup: bool
    store: bool
    ttl_s: int
    max_age_s: float | None


BYPASS = CachePlan(None, False, False, 0, None)


class ResponseCache:
    """Plans, looks up and stores cached responses for the pipeline."""

    def __init__(self, store: CacheStore, settings: CacheSettings, profiles: Mapping[str, Profile]) -> None:
        self.store = store
        self.settings = settings
        self._profiles = dict(profiles)

    def plan(
        self,
        request: ChatCompletionRequest,
        payload: Mapping[str, Any],
        namespace: str,
        control: CacheControl,
        pinned: str | None = None,
        api: str = "chat",
    ) -> CachePlan:
        """The plan for one request; ``pinned`` is the tier an ``x-triage-tier`` header pinned.

        The key's target is what decides the answer: the pinned tier if any, else the model
        the client named (a profile or a tier).
        """
        profile = self._profiles.get(request.model)
        options = profile.cache if profile is not None else None
        enabled = options.enabled if options and options.enabled is not None else self.settings.enabled
        loose = options.nondeterministic if options and options.nondeterministic is not None else None
        nondeterministic = self.settings.nondeterministic if loose is None else loose
        if not enabled or (request.temperature != 0 and not nondeterministic):
            return BYPASS
        ttl = options.ttl_s if options and options.ttl_s else self.settings.ttl_s
        shared = options is not None and options.shared
        target = request.model if pinned is None else f"{request.model}@{pinned}"
        if api != "chat":
            target = f"{api}:{target}"  # a legacy completion never answers a chat request, nor the reverse
        key = cache_key("shared" if shared else namespace, target, payload)
        lookup = not control.no_cache and control.max_age_s != 0 and self.store.state == "ok"
        return CachePlan(key, lookup, not control.no_store, ttl, control.max_age_s)

    async def lookup(self, plan: CachePlan) -> tuple[CacheEntry | None, CacheStatus]:
        if not plan.lookup or plan.key is None:
            return None, "bypass"
        raw = await self.store.get(plan.key)
        if raw is None:
            return None, "miss" if self.store.state == "ok" else "bypass"
        entry = CacheEntry.decode(raw)
        if entry is None or (plan.max_age_s is not None and entry.age_s() > plan.max_age_s):
            return None, "miss"
        return entry, "hit"

    async def save(self, plan: CachePlan, body: dict[str, Any], tier: str, model: str, cost: float | None) -> bool:
        if not plan.store or plan.key is None:
            return False
        encoded = CacheEntry(body, tier, model, cost or 0.0, time.time()).encode()
        if len(encoded) > self.settings.max_entry_bytes:
            return False
        return await self.store.set(plan.key, encoded, plan.ttl_s)

    async def aclose(self) -> None:
        await self.store.aclose()
