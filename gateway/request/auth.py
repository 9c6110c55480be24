"""Who is calling: API keys (``auth.mode: keys``) or anyone (``auth.mode: none``).

With keys, every ``/v1/*`` request needs ``Authorization: Bearer <key>``. The master key
(from ``auth.master_key_env``) administers keys and may call the API; a key record
limits its caller to its profiles and tiers, its RPM/TPM and its budget. Keys are
compared by SHA-256 hash (the master key in constant time) and never logged.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import dataclass

from gateway.cache.key import tenant_namespace
from gateway.protocol.errors import AdminDisabled, AuthUnavailable, Forbidden, Unauthorized
from gateway.state.keys import KeyRecord, KeyStore, KeyStoreUnavailable


@dataclass(frozen=True, slots=True)
class Principal:
    """The caller: a key's record, the master, or anonymous (mode none)."""

    namespace: str  # the cache tenant: the key's id, "master", or a credential hash in mode none
    key: KeyRecord | None = None
    master: bool = False


def bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


class Authenticator:
    def __init__(self, mode: str, master_key: str | None, store: KeyStore) -> None:
        self.mode = mode
        self._master = master_key.encode() if master_key else None
        self.store = store

    def _is_master(self, token: str) -> bool:
        return self._master is not None and hmac.compare_digest(token.encode(), self._master)

    async def client(self, authorization: str | None) -> Principal:
        """The caller of a ``/v1/*`` endpoint, or an OpenAI-shaped 401/503."""
        if self.mode == "none":
            return Principal(tenant_namespace(authorization))
        token = bearer(authorization)
        if token is None:
            raise Unauthorized("Missing API key: send 'Authorization: Bearer <key>'")
        if self._is_master(token):
            return Principal("master", master=True)
        try:
            record = await self.store.lookup(token)
        except KeyStoreUnavailable:
            raise AuthUnavailable("the key store is unavailable; retry shortly") from None
        if record is None:
            raise Unauthorized("Incorrect API key provided")
        if record.expired(time.time()):
            raise Unauthorized("This API key has expired", code="expired_api_key")
        return Principal(record.id, key=record)

    async def admin(self, authorization: str | None) -> None:
        """Only the master key administers keys: 401 without a valid key, 403 with another key."""
        if self.mode != "keys":
            raise AdminDisabled("key management needs auth.mode: keys")
        principal = await self.client(authorization)
        if not principal.master:
            raise Forbidden("only the master key may manage keys")
