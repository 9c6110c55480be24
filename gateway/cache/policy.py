"""When to use the response cache, for one request, and the lookup/store calls around it.

Only deterministic requests are cached: ``temperature`` 0, unless the profile (or the
global ``cache`` section) sets ``nondeterministic: true``. Request headers refine it:
``Cache-Control: no-cache`` skips the lookup, ``no-store`` skips the store, and
``max-age=N`` accepts only entries at most N seconds old. Entries larger than
``cache.max_entry_bytes`` are not stored. The outcome is ``x-triage-cache``:
``hit``, ``semantic-hit`` (``semantic_hit`` in metrics: a near-duplicate's answer, see
``gateway.cache.semantic``; only after the exact lookup missed), ``miss`` (looked up, not
found), or ``bypass`` (not looked up: not cacheable, ``no-cache``, or the store is down).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

from gateway.cache.entry import CacheEntry
from gateway.cache.key import cache_key
from gateway.cache.semantic import SemanticCache
from gateway.cache.semantic_query import SemanticQuery
from gateway.cache.store import CacheStore
from gateway.protocol.schemas import ChatCompletionRequest
from gateway.settings import CacheSettings, Profile

CacheStatus = Literal["hit", "semantic_hit", "miss", "bypass"]


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
    semantic: SemanticQuery | None = None  # the profile's semantic cache applies to this request


BYPASS = CachePlan(None, False, False, 0, None)


class ResponseCache:
    """Plans, looks up and stores cached responses for the pipeline."""

    def __init__(
        self,
        store: CacheStore,
        settings: CacheSettings,
        profiles: Mapping[str, Profile],
        semantic: SemanticCache | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self._profiles = dict(profiles)
        self.semantic = semantic

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
        semantic = None
        if options is not None and options.semantic is not None and self.semantic is not None and api == "chat":
            semantic = self.semantic.query(options.semantic, target, "shared" if shared else namespace, payload)
        return CachePlan(key, lookup, not control.no_store, ttl, control.max_age_s, semantic)

    async def lookup(self, plan: CachePlan) -> tuple[CacheEntry | None, CacheStatus]:
        if not plan.lookup or plan.key is None:
            return None, "bypass"
        entry = await self._entry(plan.key, plan.max_age_s)
        if entry is not None:
            return entry, "hit"
        if self.store.state != "ok":
            return None, "bypass"
        if plan.semantic is not None and self.semantic is not None:
            found = await self.semantic.find(plan.semantic, lambda key: self._entry(key, plan.max_age_s))
            if found is not None:
                return replace(found[0], similarity=found[1]), "semantic_hit"
        return None, "miss" if self.store.state == "ok" else "bypass"

    async def _entry(self, key: str, max_age_s: float | None) -> CacheEntry | None:
        raw = await self.store.get(key)
        entry = CacheEntry.decode(raw) if raw is not None else None
        if entry is None or (max_age_s is not None and entry.age_s() > max_age_s):
            return None
        return entry

    async def save(self, plan: CachePlan, body: dict[str, Any], tier: str, model: str, cost: float | None) -> bool:
        if not plan.store or plan.key is None:
            return False
        encoded = CacheEntry(body, tier, model, cost or 0.0, time.time()).encode()
        if len(encoded) > self.settings.max_entry_bytes:
            return False
        stored = await self.store.set(plan.key, encoded, plan.ttl_s)
        if stored and plan.semantic is not None and self.semantic is not None:
            await self.semantic.remember(plan.semantic, plan.key, plan.ttl_s)
        return stored

    async def aclose(self) -> None:
        await self.store.aclose()
        if self.semantic is not None:
            await self.semantic.aclose()
