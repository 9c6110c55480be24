"""The semantic cache's in-process vector index: exact cosine search, one matrix per bucket.

A bucket (``gateway.cache.semantic_query``) holds the entries a request may match: same
encoder, tenant, profile or tier, and everything but the last user message. Its vectors
are rows of one float32 matrix (L2-normalised, so a dot product is the cosine), searched
exhaustively with one matrix-vector product: exact, no approximate index to tune, and
cheap at the sizes a bucket reaches (measured in ``benchmarks/semantic_cache.py``).

Limits: the cost of a lookup grows linearly with its bucket (memory bandwidth: a 384-dimension
vector is 1.5 KB, so 10k entries are 15 MB read per lookup); buckets over ``LOOP_ROWS`` rows are
scanned on a worker thread (``scan``) and the candidates re-checked on the event loop
(``verify``), so a large bucket never blocks other requests. The index holds at most
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


LOOP_ROWS = 4096  # larger buckets are scanned off the event loop


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

    def rows(self, bucket: str) -> int:
        entries = self._buckets.get(bucket)
        return entries.size if entries is not None else 0

    def search(self, bucket: str, vector: NDArray[np.float32], threshold: float, limit: int = 4) -> list[Match]:
        """Unexpired entries at least ``threshold`` similar, most similar first (at most ``limit``)."""
        return self.verify(bucket, vector, threshold, self.scan(bucket, vector, threshold, limit))

    def scan(self, bucket: str, vector: NDArray[np.float32], threshold: float, limit: int = 4) -> list[int]:
        """The rows of the best candidates: the matrix product alone, safe to run on a worker thread.

        While it runs the event loop may change the bucket (a row replaced or moved): the rows
        it returns are only candidates until ``verify`` checks them on the loop.
        """
        import numpy as np

        entries = self._buckets.get(bucket)
        if entries is None or entries.size == 0 or entries.vectors.shape[1] != len(vector):
            return []
        size, vectors, expires = entries.size, entries.vectors, entries.expires  # one consistent view
        similarity = vectors[:size] @ vector
        similarity[expires[:size] <= self._clock()] = -1.0
        found = np.flatnonzero(similarity >= threshold)
        return [int(i) for i in found[np.argsort(-similarity[found], kind="stable")][:limit]]

    def verify(self, bucket: str, vector: NDArray[np.float32], threshold: float, rows: list[int]) -> list[Match]:
        """The candidates as they are now (re-scored; gone, expired or dissimilar ones dropped), best first."""
        entries = self._buckets.get(bucket)
        if entries is None or entries.vectors.shape[1] != len(vector):
            return []
        now = self._clock()
        matches = []
        for row in dict.fromkeys(r for r in rows if r < entries.size):
            similarity = float(entries.vectors[row] @ vector)
            if similarity >= threshold and entries.expires[row] > now:
                matches.append(Match(entries.keys[row], entries.facts[row], similarity))
        return sorted(matches, key=lambda m: -m.similarity)

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
