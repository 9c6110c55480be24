"""A chat-completions SSE stream, read as a sequence of happenings for the protocol translators.

The Responses and Messages streams are both a re-telling of one chat stream: text arrives,
a tool call starts, its arguments arrive, the stream fails or ends. ``ChatStream`` parses
the chat SSE bytes (``data: {chunk}\\n\\n`` ... ``data: [DONE]\\n\\n``; events may be split or
joined arbitrarily across items) and yields those happenings, while keeping what the
translators need at the end: the completion id, model, creation time, finish reason and
usage. Only the first choice is read: the translated APIs have no ``n``. ``first_choice`` and
``id_suffix`` read a whole chat completion the same way.

An error event (``data: {"error": ...}``, or ``event: error``) or an event that is not
JSON ends the stream with a ``Failure``.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson


@dataclass(frozen=True, slots=True)
class Text:
    text: str


@dataclass(frozen=True, slots=True)
class Refusal:
    text: str


@dataclass(frozen=True, slots=True)
class ToolStart:
    index: int
    call_id: str
    name: str


@dataclass(frozen=True, slots=True)
class ToolArgs:
    index: int
    fragment: str


@dataclass(frozen=True, slots=True)
class Failure:
    message: str
    type: str
    code: str | None


Happening = Text | Refusal | ToolStart | ToolArgs | Failure


class Teller(Protocol):
    """Re-tells one chat stream in another API's events (Responses, Messages)."""

    chat: ChatStream

    def tell(self, happening: Happening) -> list[bytes]: ...

    def finish(self) -> list[bytes]: ...


async def retell(teller: Teller, chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """``teller``'s events for the chat SSE ``chunks``: one list per happening, then its ending (not after a failure)."""
    async for happening in teller.chat.happenings(chunks):
        for event in teller.tell(happening):
            yield event
        if isinstance(happening, Failure):
            return
    for event in teller.finish():
        yield event


def named_event(name: str, data: bytes) -> bytes:
    """One SSE event with its ``event:`` line, as the Responses and Messages APIs frame them."""
    return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


async def sse_events(chunks: AsyncIterator[bytes]) -> AsyncIterator[tuple[str | None, bytes]]:
    """``(event name, data)`` for each SSE event, until ``[DONE]`` or the end of ``chunks``."""
    buffer = b""
    async for chunk in chunks:
        buffer += chunk.replace(b"\r\n", b"\n")
        *whole, buffer = buffer.split(b"\n\n")
        for block in whole:
            event = _parse_event(block)
            if event is None:
                continue
            if event[1] == b"[DONE]":
                return
            yield event
    event = _parse_event(buffer)
    if event is not None and event[1] != b"[DONE]":
        yield event


def _parse_event(block: bytes) -> tuple[str | None, bytes] | None:
    name: str | None = None
    data: list[bytes] = []
    for line in block.split(b"\n"):
        field, _, value = line.partition(b":")
        value = value.removeprefix(b" ")
        if field == b"event":
            name = value.decode("utf-8", "replace")
        elif field == b"data":
            data.append(value)
    if not data:
        return None
    return name, b"\n".join(data)


class ChatStream:
    """One chat stream's happenings, and what it said about itself along the way."""

    def __init__(self) -> None:
        self.id = ""
        self.model = ""
        self.created = 0
        self.finish_reason: str | None = None
        self.usage: Mapping[str, Any] | None = None
        self._calls: dict[int, str] = {}

    async def happenings(self, chunks: AsyncIterator[bytes]) -> AsyncIterator[Happening]:
        async for name, data in sse_events(chunks):
            try:
                chunk = orjson.loads(data)
            except orjson.JSONDecodeError:
                yield Failure("the upstream sent an event that is not JSON", "api_error", "bad_response")
                return
            if name == "error" or not isinstance(chunk, dict) or "error" in chunk:
                yield _failure(chunk)
                return
            for happening in self._read(chunk):
                yield happening

    def _read(self, chunk: Mapping[str, Any]) -> list[Happening]:
        self.id = self.id or str(chunk.get("id") or "")
        self.model = self.model or str(chunk.get("model") or "")
        self.created = self.created or _int(chunk.get("created"))
        if isinstance(chunk.get("usage"), dict):
            self.usage = chunk["usage"]
        choice = first_choice(chunk)
        if choice.get("finish_reason"):
            self.finish_reason = str(choice["finish_reason"])
        delta = choice.get("delta")
        if not isinstance(delta, dict):
            return []
        found: list[Happening] = []
        if isinstance(delta.get("refusal"), str) and delta["refusal"]:
            found.append(Refusal(delta["refusal"]))
        if isinstance(delta.get("content"), str) and delta["content"]:
            found.append(Text(delta["content"]))
        calls = delta.get("tool_calls")
        for position, call in enumerate(calls if isinstance(calls, list) else []):
            if isinstance(call, dict):
                found.extend(self._tool(position, call))
        return found

    def _tool(self, position: int, call: Mapping[str, Any]) -> list[Happening]:
        index = _int(call.get("index"), position)
        function: Mapping[str, Any] = call["function"] if isinstance(call.get("function"), dict) else {}
        found: list[Happening] = []
        if index not in self._calls:
            self._calls[index] = str(call.get("id") or f"call_{index}")
            found.append(ToolStart(index, self._calls[index], str(function.get("name") or "")))
        fragment = function.get("arguments")
        if isinstance(fragment, str) and fragment:
            found.append(ToolArgs(index, fragment))
        return found


def id_suffix(chat_id: str) -> str:
    """The part of a chat completion id that translated ids reuse (``chatcmpl-abc`` → ``abc``; fresh if none)."""
    suffix = chat_id.removeprefix("chatcmpl-").removeprefix("chatcmpl_")
    return suffix or uuid.uuid4().hex


def first_choice(chat: Mapping[str, Any]) -> Mapping[str, Any]:
    """The first choice of a chat completion or chunk (empty if it has none)."""
    choices = chat.get("choices")
    return choices[0] if isinstance(choices, list) and choices and isinstance(choices[0], dict) else {}


def _failure(chunk: object) -> Failure:
    error: Mapping[str, Any] = {}
    if isinstance(chunk, dict):
        error = chunk["error"] if isinstance(chunk.get("error"), dict) else chunk
    message = error.get("message")
    code = error.get("code")
    return Failure(
        message if isinstance(message, str) and message else "the upstream stream failed",
        str(error.get("type") or "api_error"),
        str(code) if code is not None else None,
    )


def _int(value: object, default: int = 0) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default
