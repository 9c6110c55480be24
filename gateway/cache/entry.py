"""What the cache stores, and how streams become entries and entries become streams.

An entry is always a whole (non-streamed) ``chat.completion`` plus where it came from
(tier, model, cost, time). A streamed miss is assembled chunk by chunk and stored
only once the stream completed; a hit on a streaming request is replayed as SSE
chunks of OpenAI's shape (role, content, refusal, tool calls, finish, and usage when asked).
Entries are brought to OpenAI's published schema as they are read (``gateway.upstream.conform``),
so a replay conforms even for an entry stored before the gateway conformed its own bodies.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.upstream import conform


@dataclass(frozen=True, slots=True)
class CacheEntry:
    body: dict[str, Any]
    tier: str
    model: str
    cost_usd: float
    stored_at: float
    similarity: float | None = None  # a semantic hit: how similar the prompt was to the one answered (not stored)

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "v": 1,
                "body": self.body,
                "tier": self.tier,
                "model": self.model,
                "cost": self.cost_usd,
                "at": self.stored_at,
            }
        )

    @classmethod
    def decode(cls, raw: bytes) -> CacheEntry | None:
        """The entry, or ``None`` if the bytes are not an entry of this version."""
        try:
            data = orjson.loads(raw)
            if data.get("v") != 1:
                return None
            body = conform.chat_completion(data["body"])  # entries stored before the gateway conformed, too
            return cls(body, str(data["tier"]), str(data["model"]), float(data["cost"]), float(data["at"]))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            return None

    def age_s(self, now: float | None = None) -> float:
        return (time.time() if now is None else now) - self.stored_at


@dataclass(slots=True)
class _Choice:
    role: str = "assistant"
    content: list[str] = field(default_factory=list)
    refusal: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    finish_reason: str | None = None
    has_content: bool = False


class StreamAssembler:
    """Rebuilds the whole completion from a stream's chunks."""

    def __init__(self) -> None:
        self._choices: dict[int, _Choice] = {}
        self._head: dict[str, Any] = {}
        self.usage: dict[str, Any] | None = None

    def feed(self, chunk: dict[str, Any]) -> None:
        if not self._head:
            self._head = {k: chunk.get(k) for k in ("id", "created", "model", "system_fingerprint")}
        if chunk.get("usage"):
            self.usage = chunk["usage"]
        for choice in chunk.get("choices") or ():
            self._feed_choice(choice)

    def _feed_choice(self, choice: dict[str, Any]) -> None:
        state = self._choices.setdefault(int(choice.get("index", 0)), _Choice())
        delta = choice.get("delta") or {}
        if delta.get("role"):
            state.role = delta["role"]
        if delta.get("content") is not None:
            state.content.append(delta["content"])
            state.has_content = True
        if delta.get("refusal") is not None:
            state.refusal.append(delta["refusal"])
        for call in delta.get("tool_calls") or ():
            slot = state.tool_calls.setdefault(int(call.get("index", 0)), {"function": {"name": "", "arguments": ""}})
            if call.get("id"):
                slot["id"] = call["id"]
            slot["type"] = call.get("type") or slot.get("type") or "function"
            function = call.get("function") or {}
            slot["function"]["name"] += function.get("name") or ""
            slot["function"]["arguments"] += function.get("arguments") or ""
        if choice.get("finish_reason"):
            state.finish_reason = choice["finish_reason"]

    def text(self) -> str:
        """Everything generated so far (content and tool-call arguments), for counting tokens."""
        parts: list[str] = []
        for state in self._choices.values():
            parts.extend(state.content)
            parts.extend(c["function"]["name"] + c["function"]["arguments"] for c in state.tool_calls.values())
        return "".join(parts)

    def completion(self) -> dict[str, Any] | None:
        """The assembled ``chat.completion``; ``None`` if a choice never finished."""
        if not self._choices or any(c.finish_reason is None for c in self._choices.values()):
            return None
        choices = []
        for index in sorted(self._choices):
            state = self._choices[index]
            message: dict[str, Any] = {
                "role": state.role,
                "content": "".join(state.content) if state.has_content else None,
            }
            if state.refusal:
                message["refusal"] = "".join(state.refusal)
            if state.tool_calls:
                message["tool_calls"] = [state.tool_calls[i] for i in sorted(state.tool_calls)]
            choices.append({"index": index, "message": message, "finish_reason": state.finish_reason, "logprobs": None})
        return {**self._head, "object": "chat.completion", "choices": choices, "usage": self.usage}


def replay_events(body: dict[str, Any], include_usage: bool) -> Iterator[bytes]:
    """SSE ``data:`` events for a cached completion, ``[DONE]`` excluded."""
    head = {
        "id": body.get("id"),
        "object": "chat.completion.chunk",
        "created": body.get("created"),
        "model": body.get("model"),
    }
    if body.get("system_fingerprint") is not None:  # optional in the spec, but never null
        head["system_fingerprint"] = body["system_fingerprint"]
    for choice in body.get("choices") or ():
        index = choice.get("index", 0)
        message = choice.get("message") or {}
        deltas: list[dict[str, Any]] = [{"role": message.get("role", "assistant"), "content": ""}]
        if message.get("content"):
            deltas.append({"content": message["content"]})
        if message.get("refusal"):
            deltas.append({"refusal": message["refusal"]})
        for position, call in enumerate(message.get("tool_calls") or ()):
            deltas.append({"tool_calls": [{"index": position, **call}]})
        for delta in deltas:
            yield chunk_event(head, [{"index": index, "delta": delta, "logprobs": None, "finish_reason": None}])
        yield chunk_event(
            head, [{"index": index, "delta": {}, "logprobs": None, "finish_reason": choice.get("finish_reason")}]
        )
    if include_usage and body.get("usage"):
        yield chunk_event({**head, "usage": body["usage"]}, [])


def chunk_event(head: dict[str, Any], choices: list[dict[str, Any]]) -> bytes:
    """One replayed ``data:`` event: the stream's head fields and these choices."""
    return b"data: " + orjson.dumps({**head, "choices": choices}) + b"\n\n"
