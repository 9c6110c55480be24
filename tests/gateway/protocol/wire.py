"""Test helpers: chat completions and chat SSE streams as an upstream sends them, and SDK checks."""

from __future__ import annotations

import functools
import warnings
from collections.abc import AsyncIterator, Iterable, Mapping
from typing import Any, TypeVar

import orjson
from pydantic import BaseModel, TypeAdapter

M = TypeVar("M")

CREATED = 1_700_000_000
USAGE = {
    "prompt_tokens": 120,
    "completion_tokens": 30,
    "total_tokens": 150,
    "prompt_tokens_details": {"cached_tokens": 100},
    "completion_tokens_details": {"reasoning_tokens": 0},
}


def completion(
    content: str | None = "Paris is the capital of France.",
    *,
    tool_calls: list[dict[str, Any]] | None = None,
    finish_reason: str = "stop",
    refusal: str | None = None,
    usage: Mapping[str, Any] | None = USAGE,
) -> dict[str, Any]:
    """A chat completion as OpenAI returns it."""
    message: dict[str, Any] = {"role": "assistant", "content": content, "refusal": refusal, "annotations": []}
    if tool_calls is not None:
        message["tool_calls"] = tool_calls
    body: dict[str, Any] = {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion",
        "created": CREATED,
        "model": "gpt-4o-mini-2024-07-18",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish_reason}],
        "service_tier": "default",
        "system_fingerprint": "fp_44709d6fcb",
    }
    if usage is not None:
        body["usage"] = dict(usage)
    return body


def tool_call(call_id: str, name: str, arguments: str) -> dict[str, Any]:
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def chunk(
    delta: Mapping[str, Any] | None = None, finish_reason: str | None = None, *, usage: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """One ``chat.completion.chunk``; with ``usage`` and no delta, the final usage-only chunk."""
    body: dict[str, Any] = {
        "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "gpt-4o-mini-2024-07-18",
        "system_fingerprint": "fp_44709d6fcb",
        "choices": [],
    }
    if delta is not None or finish_reason is not None:
        body["choices"] = [{"index": 0, "delta": dict(delta or {}), "logprobs": None, "finish_reason": finish_reason}]
    if usage is not None:
        body["usage"] = dict(usage)
    return body


def text_stream(*pieces: str, finish_reason: str = "stop", usage: Mapping[str, Any] = USAGE) -> list[dict[str, Any]]:
    """The chunks of a streamed text answer, ending with the usage-only chunk."""
    return [
        chunk({"role": "assistant", "content": "", "refusal": None}),
        *(chunk({"content": piece}) for piece in pieces),
        chunk({}, finish_reason),
        chunk(usage=usage),
    ]


def tool_stream(text: str | None, calls: list[tuple[str, str, list[str]]]) -> list[dict[str, Any]]:
    """The chunks of a streamed answer with optional text, then tool calls (id, name, argument fragments)."""
    chunks = [chunk({"role": "assistant", "content": None if text is None else ""})]
    if text:
        chunks.append(chunk({"content": text}))
    for index, (call_id, name, fragments) in enumerate(calls):
        start = {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
        chunks.append(chunk({"tool_calls": [start]}))
        chunks.extend(chunk({"tool_calls": [{"index": index, "function": {"arguments": f}}]}) for f in fragments)
    return [*chunks, chunk({}, "tool_calls"), chunk(usage=USAGE)]


def sse(chunks: Iterable[Mapping[str, Any]], *, done: bool = True) -> list[bytes]:
    """Each chunk as one ``data:`` event, then ``[DONE]``."""
    events = [b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks]
    return [*events, b"data: [DONE]\n\n"] if done else events


async def feed(items: Iterable[bytes]) -> AsyncIterator[bytes]:
    for item in items:
        yield item


async def collect(events: AsyncIterator[bytes]) -> list[bytes]:
    return [event async for event in events]


def parse_sse(events: Iterable[bytes]) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` of each named SSE event, checking the framing of each one."""
    parsed = []
    for event in events:
        assert event.endswith(b"\n\n") and event.count(b"\n\n") == 1, event
        name_line, data_line = event[:-2].split(b"\n")
        assert name_line.startswith(b"event: ") and data_line.startswith(b"data: "), event
        parsed.append((name_line[7:].decode(), orjson.loads(data_line[6:])))
    return parsed


def validate(kind: Any, data: object) -> Any:
    """``data`` validated as the SDK type ``kind``, with warnings as errors and no unknown fields anywhere."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = _adapter(kind).validate_python(data)
    assert_no_extras(value)
    return value


@functools.cache
def _adapter(kind: Any) -> TypeAdapter[Any]:
    return TypeAdapter(kind)


def assert_no_extras(value: object, path: str = "") -> None:
    """Every SDK model in ``value`` knows every field it was given (a misspelled field would be an extra)."""
    if isinstance(value, BaseModel):
        assert not value.model_extra, f"{path or type(value).__name__}: unknown fields {sorted(value.model_extra)}"
        for name in type(value).model_fields:
            assert_no_extras(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            assert_no_extras(item, f"{path}[{i}]")
    elif isinstance(value, dict):
        for key, item in value.items():
            assert_no_extras(item, f"{path}.{key}")
