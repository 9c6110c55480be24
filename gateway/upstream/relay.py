"""The ``relay`` transport: OpenAI-protocol upstreams over one shared connection pool.

The request body goes out as the client sent it (model swapped for the tier's);
the response is parsed only as far as the gateway needs (usage, errors, [DONE]).
This skips litellm's per-call translation, which costs ~8 ms a call here. The pool is
``gateway.upstream.http1``'s (keep-alive, made on first use inside the serving loop): a
third of aiohttp's CPU per call here (aiohttp's was half of httpx's), which matters at
hundreds of requests a second on one core.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from types import MappingProxyType
from typing import Any

import orjson

from gateway.tracing import NOOP_TRACER, Tracer
from gateway.upstream.base import (
    RESPONSES_TERMINAL,
    Api,
    Chunk,
    Completion,
    Target,
    UpstreamError,
    api_path,
    error_for_status,
    retry_after_seconds,
)
from gateway.upstream.http1 import ConnectFailed, Disconnected, Exchange, HttpClient, ReadTimeout

_FAILED = (ConnectFailed, ReadTimeout, Disconnected)
# the field every answer of an API carries (a 200 without it is a bad response)
_ANSWER_FIELD: Mapping[str, str] = MappingProxyType(
    {"chat": "choices", "completions": "choices", "embeddings": "data", "responses": "output"}
)


class RelayTransport:
    """Relays OpenAI-protocol requests on a shared connection pool."""

    def __init__(self, max_connections: int = 512, tracer: Tracer = NOOP_TRACER) -> None:
        self._max_connections = max_connections
        self._tracer = tracer  # sends the current attempt span's traceparent upstream
        self._client: HttpClient | None = None

    @classmethod
    def create(cls, max_connections: int = 512, tracer: Tracer = NOOP_TRACER) -> RelayTransport:
        return cls(max_connections, tracer)

    def _pool(self) -> HttpClient:
        if self._client is None:
            self._client = HttpClient(self._max_connections)
        return self._client

    def _send(self, target: Target, payload: Mapping[str, Any], timeout_s: float, api: Api) -> Exchange:
        body = orjson.dumps({**payload, "model": target.tier.upstream_model})
        headers = {**target.headers, "Content-Type": "application/json", "Accept": "application/json"}
        self._tracer.inject(headers)
        connect_s = min(target.tier.connect_timeout_s, timeout_s)
        assert target.tier.api_base is not None, "relay tiers have an api_base (settings check it)"
        return self._pool().post(target.tier.api_base, api_path(api), body, headers, connect_s, timeout_s)

    async def complete(
        self, target: Target, payload: Mapping[str, Any], timeout_s: float, api: Api = "chat"
    ) -> Completion:
        try:
            async with self._send(target, payload, timeout_s, api) as response:
                content = await response.read()
                status, headers = response.status, response.headers
        except _FAILED as exc:
            raise _transport_error(target, exc, f"no answer within {timeout_s:.1f}s") from exc
        if status >= 400:
            raise _http_error(target, status, content, headers)
        try:
            data = orjson.loads(content)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("bad_response", f"{target.name}: response body is not valid JSON") from exc
        part = _ANSWER_FIELD[api]
        if not isinstance(data, dict) or part not in data:
            raise UpstreamError("bad_response", f"{target.name}: response has no {part}")
        return Completion(data=data, raw=content)

    async def stream(
        self, target: Target, payload: Mapping[str, Any], timeout_s: float, api: Api = "chat"
    ) -> AsyncIterator[Chunk]:
        try:
            async with self._send(target, payload, timeout_s, api) as response:
                if response.status >= 400:
                    raise _http_error(target, response.status, await response.read(), response.headers)
                async for chunk in _sse_data(target, response.iter_any(), api == "responses"):
                    yield chunk
        except _FAILED as exc:
            raise _transport_error(target, exc, f"stream stalled for {timeout_s:.1f}s") from exc

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()


def _transport_error(target: Target, exc: BaseException, timed_out: str) -> UpstreamError:
    """Classify a connection failure; a connect failure never reached the model."""
    if isinstance(exc, ConnectFailed):
        return UpstreamError("connection", f"{target.name}: cannot connect: {exc}", maybe_charged=False)
    if isinstance(exc, ReadTimeout):
        return UpstreamError("timeout", f"{target.name}: {timed_out}")
    return UpstreamError("connection", f"{target.name}: {type(exc).__name__}: {exc}")


async def _sse_data(target: Target, body: AsyncIterator[bytes], responses: bool = False) -> AsyncIterator[Chunk]:
    """Split an SSE body into ``data:`` payloads; raise if it ends before ``[DONE]``.

    A Responses API stream sends no ``[DONE]``: it ends with its terminal event
    (``response.completed``, ``.incomplete`` or ``.failed``).
    """
    buffer = b""
    async for piece in body:
        buffer += piece.replace(b"\r\n", b"\n") if b"\r" in piece else piece
        while b"\n\n" in buffer:
            event, buffer = buffer.split(b"\n\n", 1)
            for line in event.split(b"\n"):
                if not line.startswith(b"data:"):
                    continue
                data = line[5:].strip()
                if data == b"[DONE]":
                    return
                if data.startswith(b'{"error"'):
                    raise _stream_error(target, data)
                chunk = _chunk(target, data)
                yield chunk
                if responses and chunk.data.get("type") in RESPONSES_TERMINAL:
                    return
    raise UpstreamError("bad_response", f"{target.name}: stream ended before [DONE]")


def _chunk(target: Target, data: bytes) -> Chunk:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        raise UpstreamError("bad_response", f"{target.name}: stream event is not valid JSON") from None
    if not isinstance(parsed, dict):
        raise UpstreamError("bad_response", f"{target.name}: stream event is not a JSON object")
    return Chunk(data, parsed)


def _stream_error(target: Target, data: bytes) -> UpstreamError:
    try:
        body = orjson.loads(data)
        message = str(body["error"].get("message", "error event"))
    except (orjson.JSONDecodeError, AttributeError, KeyError, TypeError):
        body, message = None, "malformed error event"
    return UpstreamError("server", f"{target.name}: upstream error mid-stream: {message}", body=body)


def _http_error(target: Target, status: int, content: bytes, headers: Mapping[str, str]) -> UpstreamError:
    body: Mapping[str, Any] | None = None
    message = content[:300].decode("utf-8", "replace")
    try:
        parsed = orjson.loads(content)
        if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
            body = parsed
            message = str(parsed["error"].get("message", message))
    except orjson.JSONDecodeError:
        pass
    retry_after = retry_after_seconds(headers.get("retry-after"))
    return error_for_status(status, f"{target.name}: upstream returned {status}: {message}", retry_after, body)
