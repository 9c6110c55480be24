"""One request through the chat path, whatever API it arrived on.

Every generation endpoint (chat completions, Responses, Anthropic Messages, legacy
completions) and embeddings shares this: read the body (size-limited), parse JSON
(depth-limited), let the endpoint's ``Surface`` turn it into the chat view the router,
limits and cache read (and, when the upstream speaks another API, the body sent to it),
then run the request's lifecycle and render the answer in the endpoint's own shape.
Every path ends in ``RequestLifecycle.finish``: reservations settled, request recorded.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson
from fastapi import Request
from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from gateway.cache.policy import CacheControl
from gateway.protocol.errors import GatewayError, InternalError, InvalidRequest, PayloadTooLarge, invalid_fields
from gateway.protocol.schemas import MAX_JSON_DEPTH, ChatCompletionRequest, too_deep
from gateway.request.admission import check_limits
from gateway.request.lifecycle import RequestLifecycle
from gateway.request.values import Endpoint
from gateway.settings import Settings
from gateway.wiring import Runtime

log = logging.getLogger("triage.serving")
Events = AsyncIterator[bytes]


@dataclass(frozen=True, slots=True)
class Parsed:
    """A request as the chat path sees it.

    ``view`` is a chat-completions body (routers, token counts, limits and the cache key read
    it); ``upstream`` is the body sent to the tier when that is not ``view`` (legacy
    completions, embeddings); ``original`` is what the client sent.
    """

    chat: ChatCompletionRequest
    view: Mapping[str, Any]
    original: Mapping[str, Any]
    upstream: Mapping[str, Any] | None = None
    native: Mapping[str, Any] | None = None  # a Responses request, for tiers that relay that API


@dataclass(frozen=True, slots=True)
class Surface:
    """One endpoint: how its body becomes a ``Parsed``, and how answers and errors look on it."""

    endpoint: Endpoint
    parse: Callable[[dict[str, Any], Settings], Parsed]
    body: Callable[[bytes, Mapping[str, Any]], bytes] | None = None  # None: the chat path's bytes as they are
    events: Callable[[Events, Mapping[str, Any]], Events] | None = None
    error: Callable[[GatewayError], Response] | None = None  # None: the OpenAI error shape
    native_events: Callable[[Events], Events] | None = None  # an upstream's own Responses stream


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    return bytes(body)


def json_object(body: bytes) -> dict[str, Any]:
    """The body as a JSON object no deeper than ``MAX_JSON_DEPTH``, or a 400 naming the problem."""
    try:
        raw = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise InvalidRequest(f"request body is not valid JSON: {exc}") from None
    if not isinstance(raw, dict):
        raise InvalidRequest("request body must be a JSON object")
    deep = too_deep(raw)
    if deep is not None:
        field = deep.split(".", 1)[0]
        raise InvalidRequest(f"{field}: JSON nested deeper than {MAX_JSON_DEPTH} levels", param=field)
    return raw


def chat_view(view: dict[str, Any]) -> ChatCompletionRequest:
    """Validate a chat-completions body (the client's own, or one an endpoint translated)."""
    try:
        return ChatCompletionRequest.model_validate(view)
    except ValidationError as exc:
        raise invalid_fields(exc.errors()) from None


def check_kind(model: str, endpoint: Endpoint, settings: Settings) -> None:
    """Embeddings tiers serve /v1/embeddings only, and /v1/embeddings only embeddings tiers."""
    tier = settings.tiers.get(model)
    if endpoint == "embeddings" and (tier is None or tier.kind != "embeddings"):
        known = ", ".join(name for name, t in settings.tiers.items() if t.kind == "embeddings") or "none configured"
        raise InvalidRequest(
            f"model: {model!r} is not an embeddings tier (embeddings tiers: {known})",
            param="model",
            code="model_not_found" if tier is None and model not in settings.profiles else "wrong_model_kind",
        )
    if endpoint != "embeddings" and tier is not None and tier.kind == "embeddings":
        raise InvalidRequest(
            f"model: {model!r} is an embeddings tier; call /v1/embeddings", param="model", code="wrong_model_kind"
        )


async def serve(request: Request, runtime: Runtime, surface: Surface) -> Response:
    """Run one request of ``surface``'s endpoint end to end."""
    life = runtime.lifecycle(
        CacheControl.parse(request.headers.get("cache-control")),
        request.headers.get("x-triage-tier"),
        request.headers.get("x-request-id"),
        surface.endpoint,
        request.headers.get("x-triage-conversation"),
        request.headers,
    )
    request.state.request_id = life.request_id
    try:
        principal = await runtime.auth.client(_credential(request, surface.endpoint))
        raw = json_object(await read_body(request, runtime.settings.limits.max_body_bytes))
        parsed = surface.parse(raw, runtime.settings)
        check_kind(parsed.chat.model, surface.endpoint, runtime.settings)
        check_limits(parsed.chat, runtime.settings)
        await life.admit(principal, parsed.chat, parsed.view, parsed.upstream, parsed.native)
        if parsed.chat.stream:
            outcome = await life.stream_response(parsed.chat, parsed.view)
            assert outcome.events is not None
            events = outcome.events
            if outcome.native and surface.native_events is not None:
                events = surface.native_events(outcome.events)
            elif surface.events is not None:
                events = surface.events(outcome.events, parsed.original)
            headers = {**outcome.headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            # finished in the stream's own finally, and again (a no-op then) after the response,
            # which also covers a client that left before the stream started
            return StreamingResponse(
                _finished(events, outcome.events, life),
                media_type="text/event-stream",
                headers=headers,
                background=BackgroundTask(life.finish, 200),
            )
        outcome = await life.complete(parsed.chat, parsed.view)
    except GatewayError as exc:
        exc.headers.update({k: v for k, v in life.headers().items() if k not in exc.headers})
        await life.finish(exc.status)
        if surface.error is not None:
            return surface.error(exc)
        raise
    except Exception:
        # A defect, never client input: still release the reservations and record the request.
        log.exception("request %s: unhandled error", life.request_id)
        await life.finish(500)
        error = InternalError("internal error in the gateway")
        error.headers["x-triage-request-id"] = error.headers["x-request-id"] = life.request_id
        if surface.error is not None:
            return surface.error(error)
        raise error from None
    await life.finish(200)
    assert outcome.body is not None
    body = outcome.body if surface.body is None or outcome.native else surface.body(outcome.body, parsed.original)
    return Response(body, media_type="application/json", headers=outcome.headers)


def _credential(request: Request, endpoint: Endpoint) -> str | None:
    """The bearer credential; Anthropic clients send theirs as ``x-api-key``."""
    authorization = request.headers.get("authorization")
    if authorization is None and endpoint == "messages":
        key = request.headers.get("x-api-key")
        return f"Bearer {key}" if key else None
    return authorization


async def _finished(events: Events, source: Events, life: RequestLifecycle) -> Events:
    """Pass a stream through; once it ended (or the client went away), finish the request."""
    try:
        async for event in events:
            yield event
    finally:
        for stream in (events, source):
            closer = getattr(stream, "aclose", None)
            if closer is not None:
                await closer()
        await life.finish(200)
