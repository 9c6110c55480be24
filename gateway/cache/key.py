"""The cache key: a hash of the canonical request.

What goes in: the route target (a profile name or a pinned tier), the messages as
normalised JSON (keys sorted, null fields dropped), and every request field that can
change the output (tools, tool_choice, response_format, temperature, top_p, max
tokens, stop, seed, n, penalties, logprobs, and any field Triage does not know —
unknown fields are assumed to matter). What stays out: fields that cannot change the
output (``user``, ``stream``, ``stream_options``, ``model`` — replaced by the route
target). The tenant namespace is a prefix, so no hash collision crosses tenants.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import orjson

# Request fields that never change what the model answers.
IGNORED_FIELDS = frozenset({"model", "user", "stream", "stream_options", "metadata", "store", "service_tier"})
KEY_VERSION = "v2"


def _drop_nulls(value: Any) -> Any:
    """Drop null fields and write whole-number floats as integers (``0.0`` and ``0`` are one value)."""
    if isinstance(value, Mapping):
        return {k: _drop_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_nulls(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def canonical_request(target: str, payload: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a request: equal for requests that must get the same answer."""
    body = {k: _drop_nulls(v) for k, v in payload.items() if k not in IGNORED_FIELDS and v is not None}
    return orjson.dumps({"target": target, "request": body}, option=orjson.OPT_SORT_KEYS)


def cache_key(namespace: str, target: str, payload: Mapping[str, Any]) -> str:
    digest = hashlib.blake2b(canonical_request(target, payload), digest_size=20).hexdigest()
    return f"triage:cache:{KEY_VERSION}:{namespace}:{digest}"


def tenant_namespace(authorization: str | None) -> str:
    """The namespace of a caller: a hash of its bearer credential, or ``anon`` without one.

    With ``auth.mode: none`` any token is accepted, but two callers presenting different
    tokens still never see each other's cached answers.
    """
    if not authorization:
        return "anon"
    return "t" + hashlib.blake2b(authorization.encode(), digest_size=8).hexdigest()
