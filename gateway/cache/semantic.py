"""The semantic cache: a near-duplicate of an earlier prompt answered with that prompt's cached answer.

Opt-in per profile (``profiles.<name>.cache.semantic``), consulted only after the exact
cache missed (``gateway.cache.policy``). For an eligible request
(``gateway.cache.semantic_query``) it embeds the last user message with the profile's
encoder (``routers.vectors``), searches the request's bucket in the in-process index
(``gateway.cache.semantic_index``) for entries at least ``threshold`` similar, and serves
the most similar one whose prompt passes every exactness guard (``gateway.cache.guards``)
and whose answer is still in the exact cache (so it expires with the exact cache's TTL).
A prompt the encoder would truncate is never matched (the guards read all of it, the
vector would not).

Storing: when the exact cache stores an answer for an eligible request, the prompt's vector
and guard facts go into this replica's index at once (searchable immediately) and, with
Redis, onto a shared stream (``gateway.cache.semantic_log``) from which every replica
rebuilds its index at start and reads new entries every ``cache.semantic_index.sync_interval_s``.
A semantic hit is never stored again, so answers never drift through chains of paraphrases.

The ``static`` encoder runs on the event loop (~0.05 ms), ``embedding`` on one worker thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from gateway.cache.guards import Facts, facts, mismatch
from gateway.cache.semantic_index import LOOP_ROWS, Match, SemanticIndex
from gateway.cache.semantic_log import Record, SemanticLog
from gateway.cache.semantic_query import SemanticQuery, semantic_query
from gateway.config_semantic import SemanticCacheOptions
from gateway.settings import ConfigError, Settings
from gateway.state.redis import RedisGuard, RedisUnavailable
from routers.vectors import PromptEncoder

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

log = logging.getLogger("triage.cache.semantic")
T = TypeVar("T")
PROBES = 512  # prompts whose vector is kept between a miss's lookup and its store
REBUILD_WAIT_S = 2.0  # the longest a lookup waits for the start-up rebuild


@dataclass(frozen=True, slots=True)
class Probe:
    vector: NDArray[np.float32]
    facts: Facts


class SemanticCache:
    """Built once in ``lifespan`` when some profile enables it; ``start()`` begins its background task."""

    def __init__(
        self,
        encoders: Mapping[str, PromptEncoder],
        index: SemanticIndex,
        log_: SemanticLog | None = None,
        sync_interval_s: float = 1.0,
        memo: int = PROBES,
    ) -> None:
        self.encoders = dict(encoders)
        self.memo = memo  # probes kept (benchmarks set 0 to time every embedding)
        self.index = index
        self.log = log_
        self.sync_interval_s = sync_interval_s
        self._probes: OrderedDict[tuple[str, str], Probe | None] = OrderedDict()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="semantic-cache")
        self._cursor: str | None = None  # the last stream id read
        self._rebuilt = asyncio.Event()  # cleared while start() rebuilds the index from Redis
        self._rebuilt.set()

    def query(
        self, options: SemanticCacheOptions, target: str, namespace: str, payload: Mapping[str, Any]
    ) -> SemanticQuery | None:
        if options.encoder not in self.encoders:
            return None
        return semantic_query(options, target, namespace, payload)

    async def probe(self, query: SemanticQuery) -> Probe | None:
        """The prompt's vector and facts; ``None`` when the encoder would not read all of it."""
        memo = (query.encoder, query.text)
        if memo in self._probes:
            self._probes.move_to_end(memo)
            return self._probes[memo]
        encoder = self.encoders[query.encoder]
        if encoder.inline:
            probe = _probe(encoder, query.text)
        else:
            probe = await asyncio.get_running_loop().run_in_executor(self._executor, _probe, encoder, query.text)
        self._probes[memo] = probe
        while len(self._probes) > self.memo:
            self._probes.popitem(last=False)
        return probe

    async def find(self, query: SemanticQuery, fetch: Callable[[str], Awaitable[T | None]]) -> tuple[T, float] | None:
        """The answer (``fetch`` of its exact key) of the most similar candidate that passes every
        guard and whose answer is still stored, with its similarity; ``None`` if there is none."""
        if not self._rebuilt.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._rebuilt.wait(), REBUILD_WAIT_S)
        probe = await self.probe(query)
        if probe is None:
            return None
        for match in await self._search(query, probe):
            failed = mismatch(probe.facts, match.facts)
            if failed is not None:
                log.debug("semantic candidate at %.4f rejected by the %s guard", match.similarity, failed)
                continue
            answer = await fetch(match.key)  # None: evicted, older than max-age, or Redis failed
            if answer is not None:
                return answer, match.similarity
        return None

    async def _search(self, query: SemanticQuery, probe: Probe) -> list[Match]:
        """The index's candidates; a large bucket is scanned on the worker thread."""
        if self.index.rows(query.bucket) <= LOOP_ROWS:
            return self.index.search(query.bucket, probe.vector, query.threshold)
        loop = asyncio.get_running_loop()
        scan = self.index.scan
        rows = await loop.run_in_executor(self._executor, scan, query.bucket, probe.vector, query.threshold)
        return self.index.verify(query.bucket, probe.vector, query.threshold, rows)

    async def remember(self, query: SemanticQuery, key: str, ttl_s: int) -> None:
        """Make the stored answer findable: here at once, elsewhere through the stream."""
        probe = await self.probe(query)
        if probe is None:
            return
        expires_at = time.time() + ttl_s
        self.index.add(query.bucket, key, probe.vector, probe.facts, expires_at)
        if self.log is not None:
            record = Record(query.bucket, key, probe.vector.tobytes(), probe.facts.encode(), expires_at)
            await self.log.append(record)

    def start(self) -> asyncio.Task[None]:
        """The background task: rebuild from the stream (lookups wait for it, up to
        ``REBUILD_WAIT_S``), then keep reading it and pruning expired entries."""
        self._rebuilt.clear()
        return asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            await self.sync()
        finally:
            self._rebuilt.set()
        while True:
            await asyncio.sleep(self.sync_interval_s)
            await self.sync()
            self.index.prune()

    async def sync(self) -> int:
        """Read what other replicas stored since the last read; returns the records added."""
        if self.log is None:
            return 0
        import numpy as np

        added = 0
        try:
            more = True
            while more:
                records, self._cursor, more = await self.log.read(self._cursor)
                for record in records:
                    found = Facts.decode(record.facts)
                    if found is not None:
                        vector = np.frombuffer(record.vector, dtype=np.float32)
                        added += self.index.add(record.bucket, record.key, vector, found, record.expires_at)
        except RedisUnavailable:
            log.debug("semantic cache sync skipped: redis unavailable")
        return added

    async def aclose(self) -> None:
        await asyncio.to_thread(self._executor.shutdown, wait=True)


def _probe(encoder: PromptEncoder, text: str) -> Probe | None:
    if not encoder.fits(text):
        return None
    return Probe(encoder.encode([text])[0], facts(text))


def build_semantic_cache(settings: Settings, guard: RedisGuard | None) -> SemanticCache | None:
    """The semantic cache when some profile enables it (its encoders loaded once), else ``None``."""
    enabled = {
        name: profile.cache.semantic
        for name, profile in settings.profiles.items()
        if profile.cache.semantic is not None and profile.cache.semantic.enabled
    }
    if not enabled:
        return None
    from routers.vectors import load_prompt_encoder

    encoders: dict[str, PromptEncoder] = {}
    for name, options in enabled.items():
        if options.encoder not in encoders:
            try:
                encoders[options.encoder] = load_prompt_encoder(options.encoder)
            except (OSError, ValueError) as exc:
                raise ConfigError(
                    f"profiles.{name}.cache.semantic.encoder: cannot load {options.encoder!r}: {exc}"
                ) from None
    bounds = settings.cache.semantic_index
    stream = SemanticLog(guard, bounds.max_entries) if guard is not None else None
    return SemanticCache(encoders, SemanticIndex(bounds.max_entries), stream, bounds.sync_interval_s)
