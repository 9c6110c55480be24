"""The semantic cache's in-process vector index: exact cosine search, one matrix per bucket.

A bucket (``gateway.cache.semantic_query``) holds the entries a request may match: same
encoder, tenant, profile or tier, and everything but the last user message. Its vectors
are rows of one float32 matrix (L2-normalised, so a dot product is the cosine), searched
exhaustively with one matrix-vector product: exact, no approximate index to tune, and
cheap at the sizes a bucket reaches (measured in ``benchmarks/semantic_cache.py``).

Limits: the cost of a lookup grows linearly with its bucket; the index holds at most
``max_entries`` vectors per replica — past it, expired entries are dropped, then the
soonest to expire, down to 90%. Entries carry their expiry (wall clock, shared with
other replicas through Redis) and are never matched after it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.cache.guards import Facts

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


@dataclass(frozen=True, slots=True)
class Match:
    key: str  # the exact cache key that holds the answer
    facts: Facts
    similarity: float


class _Bucket:
    __slots__ = ("expires", "facts", "keys", "size", "slots", "vectors")

    def __init__(self, dims: int) -> None:
        import numpy as np

        self.vectors: NDArray[np.float32] = np.zeros((8, dims), dtype=np.float32)
        self.expires: NDArray[np.float64] = np.zeros(8, dtype=np.float64)
        self.keys: list[str] = []
        self.facts: list[Facts] = []
        self.slots: dict[str, int] = {}
        self.size = 0

    def put(self, key: str, vector: NDArray[np.float32], facts: Facts, expires_at: float) -> bool:
        """Store or replace; True if the key is new."""
        import numpy as np

        slot = self.slots.get(key)
        if slot is not None:
            self.vectors[slot], self.expires[slot], self.facts[slot] = vector, expires_at, facts
            return False
        if self.size == len(self.vectors):
            self.vectors = np.concatenate([self.vectors, np.zeros_like(self.vectors)])
            self.expires = np.concatenate([self.expires, np.zeros_like(self.expires)])
        self.vectors[self.size], self.expires[self.size] = vector, expires_at
        self.keys.append(key)
        self.facts.append(facts)
        self.slots[key] = self.size
        self.size += 1
        return True

    def drop(self, key: str) -> bool:
        """Remove ``key`` (the last row moves into its slot); True if it was there."""
        slot = self.slots.pop(key, None)
        if slot is None:
            return False
        last = self.size - 1
        if slot != last:
            self.vectors[slot], self.expires[slot] = self.vectors[last], self.expires[last]
            self.keys[slot], self.facts[slot] = self.keys[last], self.facts[last]
            self.slots[self.keys[slot]] = slot
        self.keys.pop()
        self.facts.pop()
        self.size = last
        return True


class SemanticIndex:
    """Buckets of vectors; ``clock`` is wall-clock seconds (expiries are shared across replicas)."""

    def __init__(self, max_entries: int, clock: Callable[[], float] = time.time) -> None:
        self.max_entries = max_entries
        self._clock = clock
        self._buckets: dict[str, _Bucket] = {}
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, bucket: str, key: str, vector: NDArray[np.float32], facts: Facts, expires_at: float) -> bool:
        """Make ``key`` searchable in ``bucket`` until ``expires_at`` (replacing an older entry).

        False when it is not: already expired, or a vector of other dimensions than the bucket's.
        """
        if expires_at <= self._clock():
            return False
        entries = self._buckets.get(bucket)
        if entries is None:
            entries = self._buckets[bucket] = _Bucket(len(vector))
        elif entries.vectors.shape[1] != len(vector):
            return False  # another encoder's vector under the same name: never comparable
        self._size += entries.put(key, vector, facts, expires_at)
        if self._size > self.max_entries:
            self._evict()
        return True

    def search(self, bucket: str, vector: NDArray[np.float32], threshold: float, limit: int = 4) -> list[Match]:
        """Unexpired entries at least ``threshold`` similar, most similar first (at most ``limit``)."""
        import numpy as np

        entries = self._buckets.get(bucket)
        if entries is None or entries.size == 0 or entries.vectors.shape[1] != len(vector):
            return []
        similarity = entries.vectors[: entries.size] @ vector
        similarity[entries.expires[: entries.size] <= self._clock()] = -1.0
        found = np.flatnonzero(similarity >= threshold)
        best = found[np.argsort(-similarity[found], kind="stable")][:limit]
        return [Match(entries.keys[i], entries.facts[i], float(similarity[i])) for i in best]

    def discard(self, bucket: str, key: str) -> None:
        entries = self._buckets.get(bucket)
        if entries is not None and entries.drop(key):
            self._size -= 1
            if entries.size == 0:
                del self._buckets[bucket]

    def prune(self) -> int:
        """Drop expired entries; returns how many."""
        return self._drop_expiring_by(self._clock())

    def _evict(self) -> None:
        import numpy as np

        if self.prune() and self._size <= self.max_entries:
            return
        expiries = np.concatenate([b.expires[: b.size] for b in self._buckets.values()])
        keep = int(self.max_entries * 0.9)
        cutoff = float(np.partition(expiries, len(expiries) - keep - 1)[len(expiries) - keep - 1])
        self._drop_expiring_by(cutoff)

    def _drop_expiring_by(self, cutoff: float) -> int:
        import numpy as np

        dropped = 0
        for name in list(self._buckets):
            entries = self._buckets[name]
            expired = np.flatnonzero(entries.expires[: entries.size] <= cutoff)
            for key in [entries.keys[i] for i in expired]:
                entries.drop(key)
                dropped += 1
            if entries.size == 0:
                del self._buckets[name]
        self._size -= dropped
        return dropped
