"""A chat-completions SSE stream re-told as a Responses API stream.

Events (``event: <type>\\ndata: <json>\\n\\n``, ``sequence_number`` counting from 0):
``response.created`` and ``response.in_progress``; for text, a ``message`` item
(``output_item.added``, ``content_part.added``, ``output_text.delta``..., then
``output_text.done``, ``content_part.done``, ``output_item.done``), and likewise
``refusal.delta``/``refusal.done`` for a refusal; for each tool call, a ``function_call`` item
(``output_item.added``, ``function_call_arguments.delta``..., ``function_call_arguments.done``,
``output_item.done``); then ``response.completed`` (or ``response.incomplete`` when the output
hit its token limit or a content filter) carrying the whole ``Response`` with its usage. The
chat request must ask for usage (``stream_options.include_usage``, as ``chat_request`` does).

Items are told one after another, as the chat stream tells them: an item is done when the next
one starts. (Chat streams tell each tool call's arguments whole before the next call starts; a
stream that went back to an earlier call would have those deltas told after that item's
``output_item.done``, and the final ``Response`` would still hold them.) A failure in the chat
stream ends with an ``error`` event, then ``response.failed``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

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
from gateway.protocol.responses_api import incomplete_reason
from gateway.protocol.responses_output import (
    call_item,
    message_id,
    message_item,
    refusal_part,
    response_object,
    text_part,
)


def stream_events(chunks: AsyncIterator[bytes], request: Mapping[str, Any]) -> AsyncIterator[bytes]:
    """Responses SSE events for the chat SSE ``chunks`` that answer ``chat_request(request)``."""
    return retell(_Teller(request), chunks)


class _Teller:
    def __init__(self, request: Mapping[str, Any]) -> None:
        self.chat = ChatStream()
        self._request = request
        self._sequence = 0
        self._suffix = ""
        self._output: list[dict[str, Any]] = []
        self._open: int | None = None  # output index of the item being told
        self._calls: dict[int, int] = {}  # chat tool-call index -> output index
        self._messages = 0

    def tell(self, happening: Happening) -> list[bytes]:
        events = self._start()
        if isinstance(happening, Text | Refusal):
            events += self._text(happening)
        elif isinstance(happening, ToolStart):
            events += self._close("completed")
            self._open = self._calls[happening.index] = len(self._output)
            self._output.append(call_item(happening.call_id, happening.name, "", "in_progress"))
            events.append(self._event("response.output_item.added", item=self._output[-1], output_index=self._open))
        elif isinstance(happening, ToolArgs):
            events += self._arguments(happening)
        else:
            events += self._fail(happening)
        return events

    def finish(self) -> list[bytes]:
        events = self._start()
        incomplete = incomplete_reason(self.chat.finish_reason)
        events += self._close("incomplete" if incomplete else "completed")
        kind = "response.incomplete" if incomplete else "response.completed"
        status = "incomplete" if incomplete else "completed"
        response = self._response(status, incomplete=incomplete)
        return [*events, self._event(kind, response=response)]

    def _start(self) -> list[bytes]:
        if self._suffix:
            return []
        self._suffix = id_suffix(self.chat.id)
        response = self._response("in_progress")
        return [
            self._event("response.created", response=response),
            self._event("response.in_progress", response=response),
        ]

    def _text(self, happening: Text | Refusal) -> list[bytes]:
        events: list[bytes] = []
        item = self._output[self._open] if self._open is not None else None
        if item is None or item["type"] != "message":
            events += self._close("completed")
            self._open = len(self._output)
            self._output.append(message_item(message_id(self._suffix, self._messages), "in_progress", []))
            self._messages += 1
            item = self._output[-1]
            events.append(
                self._event(
                    "response.output_item.added",
                    item=message_item(item["id"], "in_progress", []),
                    output_index=self._open,
                )
            )
        kind = "output_text" if isinstance(happening, Text) else "refusal"
        parts = item["content"]
        if not parts or parts[-1]["type"] != kind:
            events += self._close_part()
            parts.append(text_part("") if kind == "output_text" else refusal_part(""))
            events.append(self._event("response.content_part.added", **self._where(), part=dict(parts[-1])))
        parts[-1]["text" if kind == "output_text" else "refusal"] += happening.text
        if kind == "output_text":
            events.append(self._event("response.output_text.delta", **self._where(), delta=happening.text, logprobs=[]))
        else:
            events.append(self._event("response.refusal.delta", **self._where(), delta=happening.text))
        return events

    def _arguments(self, happening: ToolArgs) -> list[bytes]:
        index = self._calls.get(happening.index)
        if index is None:
            return []
        item = self._output[index]
        item["arguments"] += happening.fragment
        delta = {"item_id": item["id"], "output_index": index, "delta": happening.fragment}
        return [self._event("response.function_call_arguments.delta", **delta)]

    def _close(self, status: str) -> list[bytes]:
        if self._open is None:
            return []
        index, item = self._open, self._output[self._open]
        events = self._close_part() if item["type"] == "message" else []
        if item["type"] == "function_call":
            done = {"item_id": item["id"], "output_index": index, "name": item["name"], "arguments": item["arguments"]}
            events.append(self._event("response.function_call_arguments.done", **done))
        item["status"] = status
        events.append(self._event("response.output_item.done", item=item, output_index=index))
        self._open = None
        return events

    def _close_part(self) -> list[bytes]:
        item = self._output[self._open] if self._open is not None else None
        if item is None or not item["content"]:
            return []
        part = item["content"][-1]
        if part["type"] == "output_text":
            done = self._event("response.output_text.done", **self._where(), text=part["text"], logprobs=[])
        else:
            done = self._event("response.refusal.done", **self._where(), refusal=part["refusal"])
        return [done, self._event("response.content_part.done", **self._where(), part=part)]

    def _fail(self, failure: Failure) -> list[bytes]:
        code = "rate_limit_exceeded" if failure.type == "rate_limit_error" else "server_error"
        error = self._event("error", code=failure.code or code, message=failure.message, param=None)
        if self._open is not None:
            self._output[self._open]["status"] = "incomplete"
        response = self._response("failed", error={"code": code, "message": failure.message})
        return [error, self._event("response.failed", response=response)]

    def _where(self) -> dict[str, Any]:
        assert self._open is not None
        item = self._output[self._open]
        return {"item_id": item["id"], "output_index": self._open, "content_index": len(item["content"]) - 1}

    def _response(self, status: str, **outcome: Any) -> dict[str, Any]:
        return response_object(
            self._request,
            suffix=self._suffix,
            created=self.chat.created,
            model=self.chat.model,
            status=status,
            output=self._output if status != "in_progress" else [],
            chat_usage=self.chat.usage if status != "in_progress" else None,
            **outcome,
        )

    def _event(self, kind: str, **fields: Any) -> bytes:
        data = orjson.dumps({"type": kind, "sequence_number": self._sequence, **fields})
        self._sequence += 1
        return named_event(kind, data)
