"""One upstream stream relayed to the client, and what it produced however it ended.

``StreamRelay.events()`` yields the client's SSE bytes: the upstream's events, then
``[DONE]``. A failure after the first byte cannot change the status any more: it becomes
an error event (``stream_interrupted``), then ``[DONE]``. ``finish()`` — called by the
request's lifecycle on every path: completed, broken, client gone, or never started —
closes the upstream stream and returns what was produced: the upstream's usage, or
tiktoken's count of the prompt and of what was received. Only a stream that completed
is stored in the cache.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from gateway.cache.entry import StreamAssembler
from gateway.cache.text_entry import TextAssembler
from gateway.protocol.errors import error_body
from gateway.protocol.responses_native import NativeStream
from gateway.request.pipeline import Pipeline
from gateway.request.values import Answered, Looked
from gateway.tracing import NOOP_SPAN, Span
from gateway.upstream.base import Chunk, UpstreamError
from gateway.upstream.caller import StreamStart

log = logging.getLogger("triage.stream")
DONE = b"data: [DONE]\n\n"


class StreamRelay:
    def __init__(
        self,
        pipeline: Pipeline,
        start: StreamStart,
        looked: Looked,
        raw: Mapping[str, Any],
        include_usage: bool,
        started: float,
        request_id: str,
        assembler: StreamAssembler | TextAssembler | NativeStream | None = None,
        span: Span = NOOP_SPAN,
    ) -> None:
        self._pipeline, self._start, self._looked, self._raw = pipeline, start, looked, raw
        self._include_usage, self._started, self._request_id = include_usage, started, request_id
        self._assembler = assembler if assembler is not None else StreamAssembler()
        self._reported: object = None
        self._first_byte_s: float | None = None
        self._interrupted = False
        self._answered: Answered | None = None
        self._span = span  # the request's span (the cache store is its child)

    def _account(self) -> Answered:
        reported = self._reported if self._reported is not None else self._assembler.usage
        usage = self._pipeline.usage(self._raw, reported, self._assembler.text())
        return self._pipeline.answered(
            self._start.target, self._looked, usage, first_byte_s=self._first_byte_s, interrupted=self._interrupted
        )

    async def events(self) -> AsyncIterator[bytes]:
        try:
            chunk: Chunk | None = self._start.first
            while chunk is not None:
                if chunk.data.get("usage"):
                    self._reported = chunk.data["usage"]
                self._assembler.feed(chunk.data)
                usage_only = not chunk.data.get("choices") and chunk.data.get("usage")
                if self._include_usage or not usage_only:
                    if self._first_byte_s is None:
                        self._first_byte_s = time.perf_counter() - self._started
                    yield b"data: " + chunk.raw + b"\n\n"
                chunk = await anext(self._start.rest, None)
            self._answered = self._account()
            whole = self._assembler.completion() if self._looked.plan.store else None
            if whole is not None:
                with self._span.child("triage.cache.store"):
                    await self._pipeline.save(self._looked.plan, whole, self._answered)
            yield DONE
        except UpstreamError as exc:
            self._interrupted = True
            message = self._pipeline.scrub(exc.message)
            log.warning("request %s: stream broke after it started: %s", self._request_id, message)
            body = error_body(f"upstream stream failed: {message}", "upstream_error", None, "stream_interrupted")
            yield b"data: " + orjson.dumps(body) + b"\n\n"
            yield DONE

    def text(self) -> str:
        """What the stream produced so far (content and tool calls)."""
        return self._assembler.text()

    async def finish(self) -> Answered:
        """Close the upstream stream and account for what it produced; safe to repeat."""
        closer = getattr(self._start.rest, "aclose", None)
        if closer is not None:
            await closer()
        if self._answered is None:
            self._answered = self._account()
        return self._answered
