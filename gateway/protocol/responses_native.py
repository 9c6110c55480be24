"""Answers from upstreams that speak the Responses API themselves (tiers with the ``responses`` capability).

Such a tier gets the client's Responses request as it was sent, and the client gets the
upstream's Response (or its event stream) as it came. The gateway still needs a chat view
of the answer: its text for token counts, its usage for cost, and a chat completion to
store in the cache (entries are chat completions whatever the endpoint; a hit is told back
as a Response by ``responses_api.response_body``). This module reads those out of a
``Response`` object and re-frames the upstream's events for the client.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from gateway.protocol.chat_sse import named_event
from gateway.upstream.base import RESPONSES_TERMINAL


def is_response(body: Mapping[str, Any]) -> bool:
    return body.get("object") == "response"


def response_text(body: Mapping[str, Any]) -> str:
    """What the response produced: output text, refusals and function-call arguments."""
    parts: list[str] = []
    for item in body.get("output") or ():
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "function_call":
            parts.append(str(item.get("name") or "") + str(item.get("arguments") or ""))
        for part in item.get("content") or ():
            if isinstance(part, Mapping):
                parts.append(str(part.get("text") or part.get("refusal") or ""))
    return "".join(parts)


def chat_usage(usage: object) -> dict[str, Any] | None:
    """A Responses ``usage`` as chat's (``input_tokens`` → ``prompt_tokens`` ...)."""
    if not isinstance(usage, Mapping):
        return None
    prompt, completion = usage.get("input_tokens"), usage.get("output_tokens")
    if not isinstance(prompt, int) or not isinstance(completion, int):
        return None
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def chat_completion(body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The chat completion a cache entry holds for this Response; ``None`` unless it completed."""
    if body.get("status") not in ("completed", "incomplete"):
        return None
    content: list[str] = []
    refusal: list[str] = []
    calls: list[dict[str, Any]] = []
    for item in body.get("output") or ():
        if not isinstance(item, Mapping):
            continue
        if item.get("type") == "function_call":
            function = {"name": str(item.get("name") or ""), "arguments": str(item.get("arguments") or "")}
            calls.append({"id": str(item.get("call_id") or ""), "type": "function", "function": function})
        elif item.get("type") == "message":
            for part in item.get("content") or ():
                if isinstance(part, Mapping) and part.get("type") == "output_text":
                    content.append(str(part.get("text") or ""))
                elif isinstance(part, Mapping) and part.get("type") == "refusal":
                    refusal.append(str(part.get("refusal") or ""))
    message: dict[str, Any] = {"role": "assistant", "content": "".join(content) if content else None}
    message["refusal"] = "".join(refusal) if refusal else None
    if calls:
        message["tool_calls"] = calls
    details = body.get("incomplete_details")
    cut = isinstance(details, Mapping) and details.get("reason") == "max_output_tokens"
    finish = "tool_calls" if calls else "length" if cut else "stop"
    return {
        "id": "chatcmpl-" + str(body.get("id") or "").removeprefix("resp_"),
        "object": "chat.completion",
        "created": int(body.get("created_at") or 0),
        "model": str(body.get("model") or ""),
        "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
        "usage": chat_usage(body.get("usage")),
    }


class NativeStream:
    """Follows an upstream Responses event stream: its text so far and its final Response."""

    def __init__(self) -> None:
        self._text: list[str] = []
        self.final: dict[str, Any] | None = None
        self.usage: dict[str, Any] | None = None

    def feed(self, event: dict[str, Any]) -> None:
        kind = event.get("type")
        if kind in ("response.output_text.delta", "response.function_call_arguments.delta"):
            self._text.append(str(event.get("delta") or ""))
        elif kind in RESPONSES_TERMINAL and isinstance(event.get("response"), dict):
            self.final = event["response"]
            self.usage = chat_usage(self.final.get("usage"))

    def text(self) -> str:
        return "".join(self._text)

    def completion(self) -> dict[str, Any] | None:
        return chat_completion(self.final) if self.final is not None else None


async def passthrough(events: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The gateway's ``data:`` events of a native stream as the Responses API frames them.

    Each event gets its ``event: <type>`` line back; the ``[DONE]`` the gateway adds is
    dropped (the Responses API does not send one); a gateway error event becomes ``error``.
    """
    async for block in events:
        for line in block.split(b"\n"):
            if not line.startswith(b"data: ") or line == b"data: [DONE]":
                continue
            data = line[6:]
            try:
                parsed = orjson.loads(data)
            except orjson.JSONDecodeError:
                continue
            kind = parsed.get("type") if isinstance(parsed, dict) else None
            if kind is None and isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
                error = parsed["error"]
                kind, data = "error", orjson.dumps({"type": "error", **error, "sequence_number": 0})
            if isinstance(kind, str):
                yield named_event(kind, data)
