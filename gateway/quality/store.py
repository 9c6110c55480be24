"""The outcome store: every shadow verdict and every feedback, as one JSON row each.

Embedded default: JSONL files, one per UTC day, under ``quality.store.path``; files older
than ``ttl_days`` are deleted as new rows arrive. With ``redis.url``: one capped Redis
Stream (``triage:outcomes``, at most ``max_rows`` entries, entries older than
``ttl_days`` trimmed), shared by every replica. Prompts and answers are in a row only
when ``store.prompts`` / ``store.answers`` say so; rows of keys that opted out are never
written (the caller checks). Nothing here logs a row.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any, Protocol

import orjson

from gateway.settings import OutcomeStoreSettings
from gateway.state.redis import RedisGuard, RedisUnavailable

STREAM = "triage:outcomes"
DAY_S = 86400


class OutcomeStore(Protocol):
    async def add(self, row: Mapping[str, Any]) -> bool:
        """Store one row; ``False`` if it could not be stored."""
        ...


def _day(ts: float) -> str:
    return time.strftime("%Y-%m-%d", time.gmtime(ts))


class FileOutcomeStore:
    """JSONL files per UTC day; writes happen in a worker thread."""

    def __init__(self, settings: OutcomeStoreSettings) -> None:
        self.folder = Path(settings.path)
        self.ttl_s = settings.ttl_days * DAY_S
        self._lock = asyncio.Lock()

    def _write(self, line: bytes, ts: float) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"outcomes-{_day(ts)}.jsonl").open("ab") as handle:
            handle.write(line)
        self._expire(ts)

    def _expire(self, now: float) -> None:
        oldest = _day(now - self.ttl_s)
        for path in self.folder.glob("outcomes-*.jsonl"):
            if path.stem.removeprefix("outcomes-") < oldest:
                path.unlink(missing_ok=True)

    async def add(self, row: Mapping[str, Any]) -> bool:
        line = orjson.dumps(row) + b"\n"
        async with self._lock:
            try:
                await asyncio.to_thread(self._write, line, float(row["ts"]))
            except OSError:
                return False
        return True

    def rows(self, since: float = 0.0) -> Iterator[dict[str, Any]]:
        """Every stored row at or after ``since``, oldest file first."""
        cutoff = time.time() - self.ttl_s
        for path in sorted(self.folder.glob("outcomes-*.jsonl")):
            with path.open("rb") as handle:
                for line in handle:
                    if line.strip():
                        row: dict[str, Any] = orjson.loads(line)
                        if float(row.get("ts", 0)) >= max(since, cutoff):
                            yield row


class RedisOutcomeStore:
    """A capped Redis Stream through the shared guard (failure mode: the row is dropped)."""

    def __init__(self, settings: OutcomeStoreSettings, guard: RedisGuard) -> None:
        self._guard = guard
        self.ttl_s = settings.ttl_days * DAY_S
        self.max_rows = settings.max_rows

    async def add(self, row: Mapping[str, Any]) -> bool:
        client, ts = self._guard.client, float(row["ts"])
        min_id = f"{int((ts - self.ttl_s) * 1000)}-0"

        async def write() -> None:
            async with client.pipeline(transaction=False) as pipe:
                pipe.xadd(STREAM, {"row": orjson.dumps(row)}, maxlen=self.max_rows, approximate=True)
                pipe.xtrim(STREAM, minid=min_id, approximate=True)
                await pipe.execute()

        try:
            await self._guard.call("outcomes", write)
        except RedisUnavailable:
            return False
        return True


async def redis_rows(client: Any, since: float = 0.0, ttl_s: float = 30 * DAY_S) -> list[dict[str, Any]]:
    """Every row in the Redis Stream at or after ``since`` (used by the export command)."""
    start = f"{int(max(since, time.time() - ttl_s) * 1000)}-0"
    rows: list[dict[str, Any]] = []
    while True:
        batch = await client.xrange(STREAM, min=start, max="+", count=1000)
        if not batch:
            return rows
        for _entry_id, fields in batch:
            rows.append(orjson.loads(fields[b"row"]))
        last = batch[-1][0].decode() if isinstance(batch[-1][0], bytes) else str(batch[-1][0])
        millis, seq = last.split("-")
        start = f"{millis}-{int(seq) + 1}"


def build_store(settings: OutcomeStoreSettings, guard: RedisGuard | None) -> OutcomeStore:
    return RedisOutcomeStore(settings, guard) if guard is not None else FileOutcomeStore(settings)
