"""Streaming (SSE over chunked HTTP) writer, with mid-stream faults."""

from __future__ import annotations

import asyncio

from gateway.simulator.chat import ChatPlan, choice_chunk, chunk_event, malformed_event, piece_chunk, role_delta
from gateway.simulator.faults import FaultSpec
from gateway.simulator.wire import LAST_CHUNK, chunk, reset_connection, response_head

STREAM_FAULTS = frozenset({"reset", "truncate", "malformed"})
_SSE_HEADERS: tuple[tuple[bytes, bytes], ...] = ((b"Cache-Control", b"no-cache"),)
_DONE = b"data: [DONE]\n\n"
# Give the client a moment to read what was sent before a mid-stream RST discards anything unread.
_RESET_GRACE_S = 0.02


async def sleep_until(deadline: float) -> None:
    """Sleep until the event loop's clock reaches ``deadline`` (no-op if it already has)."""
    delay = deadline - asyncio.get_running_loop().time()
    if delay > 0:
        await asyncio.sleep(delay)


def _content_events(plan: ChatPlan) -> list[tuple[int, int]]:
    """(round, choice index) in sending order: round by round, choices interleaved."""
    return [(r, i) for r in range(plan.rounds) for i, choice in enumerate(plan.choices) if r < len(choice.pieces)]


async def mid_stream_fault(fault: FaultSpec, malformed: bytes, writer: asyncio.StreamWriter) -> bool | None:
    """Apply a stream fault (``malformed``: the endpoint's broken event). Returns the keep-alive
    verdict if the stream is over, None to carry on."""
    if fault.kind == "malformed":
        writer.write(chunk(malformed))
        return None
    if fault.kind == "truncate":
        writer.write(LAST_CHUNK)
        await writer.drain()
        return True
    await writer.drain()
    await asyncio.sleep(_RESET_GRACE_S)
    reset_connection(writer)
    return False


def _finish(plan: ChatPlan) -> bytes:
    events = [chunk_event(plan, [choice_chunk(i, {}, c.finish_reason)]) for i, c in enumerate(plan.choices)]
    if plan.include_usage:
        events.append(chunk_event(plan, [], usage=True))
    events.append(_DONE)
    return b"".join(chunk(event) for event in events) + LAST_CHUNK


async def write_stream(
    plan: ChatPlan, writer: asyncio.StreamWriter, started_at: float, fault: FaultSpec | None, keep_alive: bool
) -> bool:
    """Send the whole stream, paced by the plan's timing; returns whether the connection may be reused."""
    fault = fault if fault is not None and fault.kind in STREAM_FAULTS else None
    first_token_at = started_at + plan.timing.ttft_s
    step = 1.0 / plan.timing.tokens_per_s
    await sleep_until(first_token_at)
    head = response_head(200, b"text/event-stream; charset=utf-8", None, keep_alive, _SSE_HEADERS)
    roles = (chunk(chunk_event(plan, [choice_chunk(i, role_delta(c))])) for i, c in enumerate(plan.choices))
    writer.write(head + b"".join(roles))
    current_round = 0
    for sent, (round_, index) in enumerate(_content_events(plan)):
        if fault is not None and sent == fault.after:
            verdict = await mid_stream_fault(fault, malformed_event(plan), writer)
            if verdict is not None:
                return verdict and keep_alive
            fault = None
        if round_ != current_round:
            current_round = round_
            await writer.drain()
            await sleep_until(first_token_at + round_ * step)
        writer.write(chunk(chunk_event(plan, [piece_chunk(plan, index, round_)])))
    if fault is not None:  # fewer content chunks than `after`: the fault still happens, before the finish
        verdict = await mid_stream_fault(fault, malformed_event(plan), writer)
        if verdict is not None:
            return verdict and keep_alive
    writer.write(_finish(plan))
    await writer.drain()
    return keep_alive
