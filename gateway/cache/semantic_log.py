"""The semantic cache's shared record of vectors: one Redis Stream every replica appends to and reads.

Each stored answer that the semantic cache may serve adds one stream entry (``XADD``,
trimmed to about ``max_len`` entries): its bucket, the exact cache key holding the answer,
the prompt's vector (float32), its guard facts (``gateway.cache.guards.Facts``: digests,
no prompt text) and its expiry. A replica rebuilds its index from the whole stream at
start and then reads what was added since its last read, every ``sync_interval_s``. The
answers themselves stay under their exact cache keys, with the exact cache's TTL.

Every call goes through the shared ``RedisGuard`` as the ``cache`` store: while Redis is
unavailable nothing is appended or read (failure mode ``bypass``) and a replica's index
holds only what it stored itself and had read before.

Debian's Redis has no vector search (``FT.SEARCH`` needs the RediSearch module), so the
search itself always runs in process (``gateway.cache.semantic_index``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gateway.state.redis import RedisGuard, RedisUnavailable

STREAM = "triage:semcache:v1"
# records per read: ~170 KB with 384-dimension vectors, well inside redis.op_timeout_ms (a timed-out
# read would put the shared guard, and with it every Redis store, into its back-off)
PAGE = 100


@dataclass(frozen=True, slots=True)
class Record:
    bucket: str
    key: str
    vector: bytes  # float32, little-endian
    facts: bytes  # Facts.encode()
    expires_at: float  # wall clock, seconds

    def fields(self) -> dict[str, bytes | str]:
        return {"b": self.bucket, "k": self.key, "v": self.vector, "f": self.facts, "x": repr(self.expires_at)}

    @classmethod
    def from_fields(cls, fields: dict[bytes, bytes]) -> Record | None:
        try:
            return cls(
                fields[b"b"].decode(), fields[b"k"].decode(), fields[b"v"], fields[b"f"], float(fields[b"x"].decode())
            )
        except (KeyError, UnicodeDecodeError, ValueError):
            return None


class SemanticLog:
    """Append to and read the stream; never raises (``bypass`` while Redis is unavailable)."""

    def __init__(self, guard: RedisGuard, max_len: int) -> None:
        self._guard = guard
        self._max_len = max_len

    @property
    def up(self) -> bool:
        return self._guard.state == "ok"

    async def append(self, record: Record) -> bool:
        client = self._guard.client
        fields: Any = record.fields()
        try:
            await self._guard.call("cache", lambda: client.xadd(STREAM, fields, maxlen=self._max_len, approximate=True))
        except RedisUnavailable:
            return False
        return True

    async def read(self, after: str | None) -> tuple[list[Record], str | None, bool]:
        """Up to ``PAGE`` records added after the id ``after`` (``None``: from the start).

        Returns the records, the id to read after next time, and whether the page was full
        (more may be waiting). Raises ``RedisUnavailable`` when Redis cannot answer.
        """
        client = self._guard.client
        start = "-" if after is None else f"({after}"
        rows: list[tuple[bytes, dict[bytes, bytes]]] = await self._guard.call(
            "cache", lambda: client.xrange(STREAM, min=start, max="+", count=PAGE)
        )
        records = [r for _, fields in rows if (r := Record.from_fields(fields)) is not None]
        last = rows[-1][0].decode() if rows else after
        return records, last, len(rows) == PAGE
