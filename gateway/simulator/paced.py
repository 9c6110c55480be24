"""The seam between the server and the endpoints beyond chat: what an endpoint is given (:class:`Context`),
what it plans (:class:`Reply`), and how the reply is sent, paced by its model's speed, with chat's faults.

An endpoint turns a request into a :class:`Reply`: a JSON body sent after ``ttft + rounds / tokens_per_s``, or
:class:`Events` streamed as SSE (the opening events at the first token, then one content event per round). The
faults behave as for chat completions: ``malformed`` and ``truncate`` cut a JSON body; in a stream, after
``after`` content events, ``malformed`` sends an event that is not JSON, ``truncate`` ends the body early and
``reset`` aborts the connection.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.simulator.chat import MODEL_SPEEDS, Timing
from gateway.simulator.faults import FaultSpec
from gateway.simulator.judge import Judge
from gateway.simulator.options import RequestError
from gateway.simulator.stream import STREAM_FAULTS, mid_stream_fault, sleep_until
from gateway.simulator.wire import LAST_CHUNK, chunk, json_response, response_head

_SSE_HEADERS: tuple[tuple[bytes, bytes], ...] = ((b"Cache-Control", b"no-cache"),)
# Give the client a moment to read what was sent before a mid-stream RST discards anything unread.


@dataclass(frozen=True, slots=True)
class Context:
    """What an endpoint needs besides the body: the seed, sim-judge, the time, and each model's speed."""

    seed: int
    judge: Judge
    now: int
    embedding_dim: int
    timing: Callable[[str], Timing]


def text_model(body: Any) -> str:
    """The model of a text-generating request (a chat model); raises RequestError (400 or 404)."""
    if not isinstance(body, dict):
        raise RequestError(400, "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "you must provide a model parameter", param="model")
    if model not in MODEL_SPEEDS:
        raise unknown_model(model)
    return model


def check_number(body: dict[str, Any], name: str, low: float, high: float) -> None:
    """Raise a 400 unless ``body[name]`` is absent, null, or a number in [low, high]."""
    value = body.get(name)
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high
    ):
        raise RequestError(400, f"Invalid value for '{name}': expected a number from {low:g} to {high:g}.", param=name)


def unknown_model(model: str) -> RequestError:
    message = f"The model `{model}` does not exist or you do not have access to it."
    return RequestError(404, message, param="model", code="model_not_found")


@dataclass(frozen=True, slots=True)
class Events:
    """A stream: ``opening`` events at the first token, ``content`` as (round, event), then ``closing``."""

    opening: Sequence[bytes]
    content: Sequence[tuple[int, bytes]]
    closing: Sequence[bytes]
    malformed: bytes


@dataclass(frozen=True, slots=True)
class Reply:
    """A planned answer: ``body`` (a JSON payload, or its bytes) when ``events`` is None, else the stream."""

    timing: Timing
    rounds: int
    body: Any = None
    events: Events | None = None

    @property
    def stream(self) -> bool:
        return self.events is not None


def sse_event(payload: Any, name: str | None = None) -> bytes:
    """One SSE event: an optional ``event:`` line and a ``data:`` line (``payload`` may already be bytes)."""
    data = payload if isinstance(payload, bytes) else orjson.dumps(payload)
    head = b"event: " + name.encode() + b"\n" if name else b""
    return head + b"data: " + data + b"\n\n"


async def send(
    reply: Reply, writer: asyncio.StreamWriter, started_at: float, fault: FaultSpec | None, keep_alive: bool
) -> bool:
    """Send ``reply`` (early faults are the caller's); returns whether the connection may be reused."""
    if reply.events is not None:
        return await _stream(reply.events, reply.timing, writer, started_at, fault, keep_alive)
    timing = reply.timing
    await sleep_until(started_at + timing.ttft_s + reply.rounds / timing.tokens_per_s)
    body = reply.body if isinstance(reply.body, bytes) else orjson.dumps(reply.body)
    kind = None if fault is None else fault.kind
    if kind == "truncate":
        writer.write(response_head(200, b"application/json", len(body), False) + body[: len(body) // 2])
        return False
    writer.write(json_response(200, body[: max(len(body) // 2, 1)] if kind == "malformed" else body, keep_alive))
    return keep_alive


async def _stream(
    events: Events,
    timing: Timing,
    writer: asyncio.StreamWriter,
    started_at: float,
    fault: FaultSpec | None,
    keep_alive: bool,
) -> bool:
    fault = fault if fault is not None and fault.kind in STREAM_FAULTS else None
    first_token_at = started_at + timing.ttft_s
    step = 1.0 / timing.tokens_per_s
    await sleep_until(first_token_at)
    head = response_head(200, b"text/event-stream; charset=utf-8", None, keep_alive, _SSE_HEADERS)
    writer.write(head + b"".join(chunk(event) for event in events.opening))
    current_round = 0
    for sent, (round_, event) in enumerate(events.content):
        if fault is not None and sent == fault.after:
            verdict = await mid_stream_fault(fault, events.malformed, writer)
            if verdict is not None:
                return verdict and keep_alive
            fault = None
        if round_ != current_round:
            current_round = round_
            await writer.drain()
            await sleep_until(first_token_at + round_ * step)
        writer.write(chunk(event))
    if fault is not None:  # fewer content events than `after`: the fault still happens, before the closing
        verdict = await mid_stream_fault(fault, events.malformed, writer)
        if verdict is not None:
            return verdict and keep_alive
    writer.write(b"".join(chunk(event) for event in events.closing) + LAST_CHUNK)
    await writer.drain()
    return keep_alive
