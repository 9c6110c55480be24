"""A chat-completions SSE stream re-told as an Anthropic Messages stream.

Events (``event: <name>\\ndata: <json>\\n\\n``): ``message_start`` (with ``input_tokens`` 0:
the chat stream reports usage only at its end), ``ping``; for text a ``text`` content block
(``content_block_start``, ``content_block_delta`` with ``text_delta``...,
``content_block_stop``); for each tool call a ``tool_use`` block whose arguments arrive as
``input_json_delta``; then ``message_delta`` with the stop reason and the whole usage (input
tokens included), and ``message_stop``. The chat request must ask for usage
(``stream_options.include_usage``, as ``chat_request`` does).

Blocks are told one after another, as the chat stream tells them: a block stops when the next
one starts. (Chat streams tell each tool call's arguments whole before the next call starts; a
stream that went back to an earlier call would have those deltas told, by index, after that
block's ``content_block_stop``.) A failure in the chat stream ends it with an ``error`` event in Anthropic's shape.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from gateway.protocol.anthropic_api import stop_reason, usage
from gateway.protocol.chat_sse import (
    ChatStream,
    Failure,
    Happening,
    Refusal,
    Text,
    ToolArgs,
    ToolStart,
    id_suffix,
    named_event,
    retell,
)

_FAILURE_TYPES = frozenset({"rate_limit_error", "overloaded_error", "timeout_error", "invalid_request_error"})


def stream_events(chunks: AsyncIterator[bytes], request: Mapping[str, Any]) -> AsyncIterator[bytes]:
    """Anthropic SSE events for the chat SSE ``chunks`` that answer ``chat_request(request)``."""
    return retell(_Teller(request), chunks)


class _Teller:
    def __init__(self, request: Mapping[str, Any]) -> None:
        self.chat = ChatStream()
        self._request = request
        self._started = False
        self._blocks = 0  # blocks started so far
        self._open: tuple[int, str] | None = None  # (index, "text" | "tool_use") of the block being told
        self._calls: dict[int, int] = {}  # chat tool-call index -> block index

    def tell(self, happening: Happening) -> list[bytes]:
        if isinstance(happening, Failure):
            kind = happening.type if happening.type in _FAILURE_TYPES else "api_error"
            return [_event("error", {"type": "error", "error": {"type": kind, "message": happening.message}})]
        events = self._start()
        if isinstance(happening, Text | Refusal):
            if self._open is None or self._open[1] != "text":
                events += self._begin("text", {"type": "text", "text": ""})
            delta = {"type": "text_delta", "text": happening.text}
            events.append(
                _event(
                    "content_block_delta", {"type": "content_block_delta", "index": self._blocks - 1, "delta": delta}
                )
            )
        elif isinstance(happening, ToolStart):
            block = {"type": "tool_use", "id": happening.call_id, "name": happening.name, "input": {}}
            events += self._begin("tool_use", block)
            self._calls[happening.index] = self._blocks - 1
        elif isinstance(happening, ToolArgs) and happening.index in self._calls:
            delta = {"type": "input_json_delta", "partial_json": happening.fragment}
            index = self._calls[happening.index]
            events.append(
                _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
            )
        return events

    def finish(self) -> list[bytes]:
        events = self._start() + self._stop()
        delta = {"stop_reason": stop_reason(self.chat.finish_reason), "stop_sequence": None}
        events.append(
            _event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage(self.chat.usage)})
        )
        events.append(_event("message_stop", {"type": "message_stop"}))
        return events

    def _start(self) -> list[bytes]:
        if self._started:
            return []
        self._started = True
        message: dict[str, Any] = {
            "id": "msg_" + id_suffix(self.chat.id),
            "type": "message",
            "role": "assistant",
            "model": self.chat.model or str(self._request.get("model") or ""),
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }
        return [
            _event("message_start", {"type": "message_start", "message": message}),
            _event("ping", {"type": "ping"}),
        ]

    def _begin(self, kind: str, block: Mapping[str, Any]) -> list[bytes]:
        events = self._stop()
        self._open = (self._blocks, kind)
        self._blocks += 1
        start = {"type": "content_block_start", "index": self._open[0], "content_block": block}
        return [*events, _event("content_block_start", start)]

    def _stop(self) -> list[bytes]:
        if self._open is None:
            return []
        index, self._open = self._open[0], None
        return [_event("content_block_stop", {"type": "content_block_stop", "index": index})]


def _event(name: str, data: Mapping[str, Any]) -> bytes:
    return named_event(name, orjson.dumps(data))
