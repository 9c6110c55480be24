"""Which requests the semantic cache may answer, and the bucket a request's near-duplicates share.

A request is eligible when its profile enabled ``cache.semantic`` and it is a chat request
(chat, Responses or Messages; never a legacy completion or embeddings) whose last message
is the user's, with text only (no image or audio parts), with at most ``max_turns`` user
turns, and — unless the profile allows them — no tools, tool calls or tool results and no
``response_format: json_schema``. Whether the request is deterministic is the exact
cache's rule, applied before (``gateway.cache.policy``).

Only the last user message is compared by meaning. Everything else must be identical: the
bucket is a hash of the canonical request (``gateway.cache.key``: the profile or pinned
tier, the system prompt, earlier turns, every parameter that changes the output) with the
last message's content left out, namespaced by encoder and tenant like the exact key.
So a hit never crosses tenants, profiles, tiers, system prompts, parameters or earlier turns.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.cache.key import canonical_request
from gateway.config_semantic import SemanticCacheOptions
from routers.base import TEXT_PARTS, content_text

TOOL_ROLES = frozenset({"tool", "function"})


@dataclass(frozen=True, slots=True)
class SemanticQuery:
    """What the semantic cache looks up (and stores) for one request."""

    bucket: str  # "<encoder>:<namespace>:<digest of everything but the last user message>"
    text: str  # the last user message: what is embedded and what the guards read
    threshold: float
    encoder: str


def semantic_query(
    options: SemanticCacheOptions, target: str, namespace: str, payload: Mapping[str, Any]
) -> SemanticQuery | None:
    """The query for an eligible request, else ``None`` (the exact cache alone applies)."""
    messages = payload.get("messages")
    if not options.enabled or not isinstance(messages, list) or not messages:
        return None
    last = messages[-1]
    if not isinstance(last, Mapping) or last.get("role") != "user" or not _text_only(last.get("content")):
        return None
    text = content_text(last.get("content"))
    if not text.strip() or sum(1 for m in messages if isinstance(m, Mapping) and m.get("role") == "user") > (
        options.max_turns
    ):
        return None
    if not options.tools and _uses_tools(payload, messages):
        return None
    response_format = payload.get("response_format")
    if (
        not options.json_schema
        and isinstance(response_format, Mapping)
        and response_format.get("type") == "json_schema"
    ):
        return None
    context = {**payload, "messages": [*messages[:-1], {**last, "content": None}]}
    digest = hashlib.blake2b(canonical_request(target, context), digest_size=20).hexdigest()
    return SemanticQuery(f"{options.encoder}:{namespace}:{digest}", text, options.threshold, options.encoder)


def _text_only(content: object) -> bool:
    if isinstance(content, str):
        return True
    if not isinstance(content, list):
        return False
    return all(isinstance(part, Mapping) and part.get("type") in TEXT_PARTS for part in content)


def _uses_tools(payload: Mapping[str, Any], messages: Sequence[Any]) -> bool:
    if payload.get("tools") or payload.get("functions") or payload.get("tool_choice"):
        return True
    for message in messages:
        if not isinstance(message, Mapping):
            continue
        if message.get("role") in TOOL_ROLES or message.get("tool_calls") or message.get("function_call"):
            return True
    return False
