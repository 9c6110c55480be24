"""Sticky conversations: which conversation a request continues, and the floor under its route.

A profile with ``sticky: {ttl_s}`` never routes a conversation below the highest rung the
conversation was already routed to, until ``ttl_s`` after its last turn. The conversation is
identified by the first of these that the request carries:

1. the ``x-triage-conversation`` request header;
2. ``metadata.conversation_id`` in the body, together with the body's ``user``;
3. otherwise (nothing the client must send) its system prompt — the text of the messages with
   role ``system`` or ``developer`` before the first user message — and its first user message
   (text parts only).

The id is ``sha256`` of the JSON array ``[namespace, source, *values]`` (``namespace``: the
tenant's hash, so tenants never share a conversation; ``source``: ``header``, ``metadata`` or
``content``), as hex, first 32 characters. Every turn of a conversation resends its first
messages, so turns meet on the same id without the client doing anything.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.config_ladder import Sticky
from gateway.state.redis import RedisGuard
from gateway.state.sticky import StickyStore

HEADER = "x-triage-conversation"
ID_CHARS = 32


def conversation_id(namespace: str, raw: Mapping[str, Any], header: str | None = None) -> str:
    """The documented conversation id of a chat request (see the module docstring)."""
    metadata = raw.get("metadata")
    given = metadata.get("conversation_id") if isinstance(metadata, dict) else None
    if header:
        parts: list[object] = ["header", header]
    elif isinstance(given, str | int) and not isinstance(given, bool) and str(given):
        parts = ["metadata", str(raw.get("user") or ""), str(given)]
    else:
        parts = ["content", *_opening(raw.get("messages") or ())]
    digest = hashlib.sha256(orjson.dumps([namespace, *parts])).hexdigest()
    return digest[:ID_CHARS]


def _opening(messages: Sequence[Any]) -> tuple[str, str]:
    """The system prompt and the first user message, as text."""
    system: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role")
        if role == "user":
            return "\n".join(system), _text(message.get("content"))
        if role in ("system", "developer"):
            system.append(_text(message.get("content")))
    return "\n".join(system), ""


def _text(content: object) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


@dataclass(frozen=True, slots=True)
class Turn:
    """One turn of a sticky conversation: where its floor lives and what it was when the turn arrived."""

    store: StickyStore
    conversation: str
    ttl_s: float
    floor: str | None


class Stickiness:
    """The sticky profiles' floor stores; built once in ``lifespan``."""

    def __init__(self, profiles: Mapping[str, Sticky], guard: RedisGuard | None = None) -> None:
        self._profiles = {
            name: (StickyStore(name, guard, sticky.max_conversations), sticky.ttl_s)
            for name, sticky in profiles.items()
        }

    def __contains__(self, profile: object) -> bool:
        return profile in self._profiles

    async def recall(
        self, profile: str, raw: Mapping[str, Any], namespace: str, header: str | None, now: float
    ) -> Turn | None:
        """This turn of its conversation and the floor under it; ``None`` for a profile that is not sticky."""
        held = self._profiles.get(profile)
        if held is None:
            return None
        store, ttl_s = held
        conversation = conversation_id(namespace, raw, header)
        return Turn(store, conversation, ttl_s, await store.floor(conversation, now))

    async def remember(self, turn: Turn, tier: str, rungs: Sequence[str], now: float) -> None:
        """The turn was routed to ``tier``: raise the floor to it, or keep the higher floor for another ``ttl_s``."""
        floor = turn.floor
        if tier in rungs and (floor not in rungs or rungs.index(tier) >= rungs.index(floor)):
            await turn.store.raise_to(turn.conversation, tier, turn.ttl_s, now)
        else:
            await turn.store.keep(turn.conversation, turn.ttl_s, now)
