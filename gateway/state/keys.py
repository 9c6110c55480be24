"""API keys: stored hashed (SHA-256) in Redis, or in process without a Redis URL.

Layout in Redis: ``triage:{keys}:hash:<sha256>`` holds the key's record (JSON),
``triage:{keys}:id:<id>`` the hash, ``triage:{keys}:ids`` the set of ids; the hash tag
``{keys}`` keeps them in one Redis Cluster slot, so a create or revoke is one transaction
(and a listing one ``MGET``) there too. Keys stored before the tag (``triage:keys:*``) are
copied over once, on the first call (``_adopt_legacy``). A key is looked up in Redis on
every request, so a revocation takes effect at once on every replica. Failure mode ``closed``: while Redis is unavailable, keys verified in the last
``auth.verified_cache_s`` keep working from an in-process cache; any other key is
refused (503); key management fails. Calls go through the shared ``RedisGuard``.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import orjson

from gateway.state.redis import RedisGuard, RedisUnavailable

PREFIX = "triage:{keys}"
LEGACY_PREFIX = "triage:keys"  # the layout before hash tags (single server and Sentinel only)
ADOPTED = f"{PREFIX}:legacy-adopted"  # set once the legacy keys have been copied
T = TypeVar("T")


class KeyStoreUnavailable(RuntimeError):
    """The key store cannot answer (Redis down or slow)."""


@dataclass(frozen=True, slots=True)
class KeyRecord:
    id: str
    name: str
    created_at: float
    profiles: tuple[str, ...] | None = None  # None: every profile
    tiers: tuple[str, ...] | None = None  # None: every tier
    budget_usd: float | None = None  # per-key spend limit per budget window
    rpm: int | None = None
    tpm: int | None = None
    expires_at: float | None = None
    max_n: int | None = None  # the most choices (``n``) a request may ask for
    outcomes_opt_out: bool = False  # never shadow or store this tenant's requests (quality loop)
    prefix: str = field(default="")  # the first characters of the key, to recognise it in listings

    def expired(self, now: float) -> bool:
        return self.expires_at is not None and now >= self.expires_at

    def public(self) -> dict[str, Any]:
        """The record as the admin API shows it: never the key or its hash."""
        return asdict(self)

    def encode(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def decode(cls, raw: bytes) -> KeyRecord:
        data = orjson.loads(raw)
        for name in ("profiles", "tiers"):
            if data.get(name) is not None:
                data[name] = tuple(data[name])
        return cls(**data)


def record_keys(digest: str, key_id: str) -> tuple[str, str, str]:
    """A key's Redis keys: its record, its id's hash, and the set of ids (one hash tag: one slot)."""
    return f"{PREFIX}:hash:{digest}", f"{PREFIX}:id:{key_id}", f"{PREFIX}:ids"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh (id, secret key)."""
    return "key_" + secrets.token_hex(8), "tri-" + secrets.token_urlsafe(32)


class KeyStore:
    """Creates, looks up, lists and revokes keys; Redis-backed when a client is given."""

    def __init__(
        self, guard: RedisGuard | None, verified_cache_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._guard = guard
        self._clock = clock
        self._verified_cache_s = verified_cache_s
        self._memory: dict[str, KeyRecord] = {}  # hash -> record (no Redis)
        self._verified: dict[str, tuple[KeyRecord, float]] = {}  # hash -> (record, when verified)
        self._adopted = False  # legacy keys copied to the tagged layout (checked once per process)

    async def create(self, record: KeyRecord, key: str) -> None:
        digest = hash_key(key)
        if self._guard is None:
            self._memory[digest] = record
            return
        client = self._guard.client

        async def write() -> None:
            by_hash, by_id, ids = record_keys(digest, record.id)
            async with client.pipeline(transaction=True) as pipe:
                pipe.set(by_hash, record.encode())
                pipe.set(by_id, digest)
                pipe.sadd(ids, record.id)
                await pipe.execute()

        await self._call(write)

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        assert self._guard is not None
        try:
            if not self._adopted:
                await self._guard.call("keys", self._adopt_legacy)
                self._adopted = True
            return await self._guard.call("keys", operation)
        except RedisUnavailable as exc:
            raise KeyStoreUnavailable(str(exc)) from exc

    async def _adopt_legacy(self) -> None:
        """Copy keys stored as ``triage:keys:*`` (before hash tags) to ``triage:{keys}:*``, once per Redis.

        The legacy keys stay where they are, so replicas still on the old version keep serving
        them during a rolling upgrade; the marker stops a later start from copying them again
        (which would bring back keys revoked since).
        """
        assert self._guard is not None
        client = self._guard.client
        if await client.exists(ADOPTED):
            return
        ids = sorted(i.decode() for i in await client.smembers(f"{LEGACY_PREFIX}:ids"))
        digests = list(await client.mget([f"{LEGACY_PREFIX}:id:{i}" for i in ids])) if ids else []
        found = [(i, d.decode()) for i, d in zip(ids, digests, strict=True) if d]
        raws = list(await client.mget([f"{LEGACY_PREFIX}:hash:{d}" for _, d in found])) if found else []
        async with client.pipeline(transaction=True) as pipe:
            for (key_id, digest), raw in zip(found, raws, strict=True):
                if raw is not None:
                    by_hash, by_id, every_id = record_keys(digest, key_id)
                    pipe.set(by_hash, raw, nx=True)
                    pipe.set(by_id, digest, nx=True)
                    pipe.sadd(every_id, key_id)
            pipe.set(ADOPTED, str(len(raws)))
            await pipe.execute()

    async def lookup(self, key: str) -> KeyRecord | None:
        """The record of a presented key, ``None`` if unknown or revoked."""
        digest = hash_key(key)
        if self._guard is None:
            return self._memory.get(digest)
        client = self._guard.client
        try:
            raw = await self._call(lambda: client.get(f"{PREFIX}:hash:{digest}"))
        except KeyStoreUnavailable:
            cached = self._verified.get(digest)
            if cached is not None and self._clock() - cached[1] <= self._verified_cache_s:
                return cached[0]
            raise
        if raw is None:
            self._verified.pop(digest, None)
            return None
        record = KeyRecord.decode(raw)
        self._verified[digest] = (record, self._clock())
        return record

    async def list(self) -> list[KeyRecord]:
        if self._guard is None:
            return sorted(self._memory.values(), key=lambda r: r.created_at)
        client = self._guard.client

        async def read() -> list[bytes | None]:
            ids = sorted(i.decode() for i in await client.smembers(f"{PREFIX}:ids"))
            digests = await client.mget([f"{PREFIX}:id:{i}" for i in ids]) if ids else []
            return list(await client.mget([f"{PREFIX}:hash:{d.decode()}" for d in digests if d])) if ids else []

        raws = await self._call(read)
        return sorted((KeyRecord.decode(r) for r in raws if r), key=lambda r: r.created_at)

    async def revoke(self, key_id: str) -> bool:
        if self._guard is None:
            for digest, record in list(self._memory.items()):
                if record.id == key_id:
                    del self._memory[digest]
                    return True
            return False
        client = self._guard.client

        async def delete() -> bytes | None:
            digest: bytes | None = await client.get(f"{PREFIX}:id:{key_id}")
            if digest is None:
                return None
            by_hash, by_id, ids = record_keys(digest.decode(), key_id)
            async with client.pipeline(transaction=True) as pipe:
                pipe.delete(by_hash, by_id)
                pipe.srem(ids, key_id)
                await pipe.execute()
            return digest

        removed = await self._call(delete)
        if removed is None:
            return False
        self._verified.pop(removed.decode(), None)
        return True
