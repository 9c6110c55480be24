"""The ``relay`` transport: OpenAI-protocol upstreams over one shared httpx pool.

The request body goes out as the client sent it (model swapped for the tier's);
the response is parsed only as far as the gateway needs (usage, errors, [DONE]).
This skips litellm's per-call translation, which costs ~8 ms a call here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import orjson

from gateway.upstream.base import Chunk, Completion, Target, UpstreamError, error_for_status, retry_after_seconds


class RelayTransport:
    """Relays OpenAI-protocol requests on a shared connection pool."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self._client = client

    @classmethod
    def create(cls, max_connections: int = 512) -> RelayTransport:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        return cls(httpx.AsyncClient(limits=limits, timeout=None, follow_redirects=False))

    def _request(self, target: Target, payload: Mapping[str, Any], timeout_s: float) -> httpx.Request:
        body = orjson.dumps({**payload, "model": target.tier.upstream_model})
        headers = {**target.headers, "Content-Type": "application/json", "Accept": "application/json"}
        timeout = httpx.Timeout(timeout_s, connect=min(target.tier.connect_timeout_s, timeout_s))
        url = f"{target.tier.api_base}/chat/completions"
        return self._client.build_request("POST", url, content=body, headers=headers, timeout=timeout)

    async def complete(self, target: Target, payload: Mapping[str, Any], timeout_s: float) -> Completion:
        request = self._request(target, payload, timeout_s)
        try:
            response = await self._client.send(request)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise UpstreamError("connection", f"{target.name}: cannot connect: {exc}", maybe_charged=False) from exc
        except httpx.TimeoutException as exc:
            raise UpstreamError("timeout", f"{target.name}: no answer within {timeout_s:.1f}s") from exc
        except httpx.TransportError as exc:
            raise UpstreamError("connection", f"{target.name}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 400:
            raise _http_error(target, response.status_code, response.content, response.headers)
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError as exc:
            raise UpstreamError("bad_response", f"{target.name}: response body is not valid JSON") from exc
        if not isinstance(data, dict) or "choices" not in data:
            raise UpstreamError("bad_response", f"{target.name}: response has no choices")
        return Completion(data=data, raw=response.content)

    async def stream(self, target: Target, payload: Mapping[str, Any], timeout_s: float) -> AsyncIterator[Chunk]:
        request = self._request(target, payload, timeout_s)
        try:
            response = await self._client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise UpstreamError("connection", f"{target.name}: cannot connect: {exc}", maybe_charged=False) from exc
        except httpx.TimeoutException as exc:
            raise UpstreamError("timeout", f"{target.name}: no answer within {timeout_s:.1f}s") from exc
        except httpx.TransportError as exc:
            raise UpstreamError("connection", f"{target.name}: {type(exc).__name__}: {exc}") from exc
        try:
            if response.status_code >= 400:
                raise _http_error(target, response.status_code, await response.aread(), response.headers)
            async for data in _sse_data(target, response):
                yield data
        except httpx.TimeoutException as exc:
            raise UpstreamError("timeout", f"{target.name}: stream stalled for {timeout_s:.1f}s") from exc
        except httpx.TransportError as exc:
            raise UpstreamError("connection", f"{target.name}: stream broke: {type(exc).__name__}") from exc
        finally:
            await response.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()


async def _sse_data(target: Target, response: httpx.Response) -> AsyncIterator[Chunk]:
    """Split an SSE body into ``data:`` payloads; raise if it ends before ``[DONE]``."""
    buffer = b""
    async for chunk in response.aiter_bytes():
        buffer += chunk.replace(b"\r\n", b"\n") if b"\r" in chunk else chunk
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
                yield _chunk(target, data)
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


def _http_error(target: Target, status: int, content: bytes, headers: httpx.Headers) -> UpstreamError:
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
