"""An in-process transport for tests, in the spirit of httpx's ``MockTransport``.

``FakeTransport(handler)`` calls ``handler(target, payload)`` for every attempt; the
handler returns a completion body (a dict), a list of stream chunk bodies, or raises
``UpstreamError`` — exactly what a real transport would produce. It records each call
and whether each stream was closed, so the pipeline, retries, deadlines, fallbacks and
stream settlement can be tested without processes. Never used by a served config.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.upstream.base import Api, Chunk, Completion, Target, UpstreamError

Reply = dict[str, Any] | list[dict[str, Any]]
Handler = Callable[[Target, Mapping[str, Any]], Awaitable[Reply]]


@dataclass(slots=True)
class FakeTransport:
    handler: Handler
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (tier, payload) per attempt
    streams_closed: int = 0

    async def _reply(self, target: Target, payload: Mapping[str, Any], timeout_s: float) -> Reply:
        self.calls.append((target.name, dict(payload)))
        try:
            async with asyncio.timeout(timeout_s):
                return await self.handler(target, payload)
        except TimeoutError:
            raise UpstreamError("timeout", f"{target.name}: no answer within {timeout_s:.1f}s") from None

    async def complete(
        self, target: Target, payload: Mapping[str, Any], timeout_s: float, api: Api = "chat"
    ) -> Completion:
        reply = await self._reply(target, payload, timeout_s)
        if not isinstance(reply, dict):
            raise UpstreamError("bad_response", f"{target.name}: a stream where a completion was expected")
        return Completion(data=reply, raw=orjson.dumps(reply))

    async def stream(
        self, target: Target, payload: Mapping[str, Any], timeout_s: float, api: Api = "chat"
    ) -> AsyncIterator[Chunk]:
        reply = await self._reply(target, payload, timeout_s)
        chunks = reply if isinstance(reply, list) else [reply]
        try:
            for data in chunks:
                if "error" in data:
                    raise UpstreamError("server", f"{target.name}: upstream error mid-stream: {data['error']}")
                yield Chunk(orjson.dumps(data), data)
                await asyncio.sleep(0)
        finally:
            self.streams_closed += 1

    async def aclose(self) -> None:
        return None
