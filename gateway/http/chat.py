"""``POST /v1/chat/completions``: parse, hand to the pipeline, serialise."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.background import BackgroundTask
from starlette.responses import Response, StreamingResponse

from gateway.cache.policy import CacheControl
from gateway.http.deps import Serving
from gateway.protocol.errors import (
    GatewayError,
    InternalError,
    InvalidRequest,
    PayloadTooLarge,
    invalid_fields,
)
from gateway.protocol.schemas import MAX_JSON_DEPTH, ChatCompletionRequest, too_deep
from gateway.request.admission import check_limits
from gateway.request.lifecycle import RequestLifecycle

chat_api = APIRouter()
log = logging.getLogger("triage.chat")


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise PayloadTooLarge(f"request body is larger than {limit} bytes")
    return bytes(body)


def _parse(body: bytes) -> tuple[ChatCompletionRequest, dict[str, Any]]:
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
    try:
        return ChatCompletionRequest.model_validate(raw), raw
    except ValidationError as exc:
        raise invalid_fields(exc.errors()) from None


# The handler reads the raw body itself (exact 400s, the original JSON forwarded untouched), so
# the request schema is declared here for the OpenAPI document (clients, docs and fuzzing).
def openapi_components() -> dict[str, Any]:
    """The request model and its parts, as OpenAPI component schemas."""
    schema = ChatCompletionRequest.model_json_schema(ref_template="#/components/schemas/{model}")
    return {**schema.pop("$defs", {}), "ChatCompletionRequest": schema}


_OPENAPI = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletionRequest"}}},
    },
    "responses": {
        "400": {"description": "Invalid request (OpenAI error shape)"},
        "404": {"description": "Unknown model (OpenAI error shape)"},
        "413": {"description": "Body too large"},
        "429": {"description": "Budget exceeded (OpenAI error shape)"},
        "502": {"description": "Upstream failed after retries and fallbacks"},
        "503": {"description": "Not ready or shutting down"},
        "504": {"description": "Upstream timed out"},
    },
}


@chat_api.post("/v1/chat/completions", openapi_extra=_OPENAPI)
async def chat_completions(request: Request, runtime: Serving) -> Response:
    life = runtime.lifecycle(
        CacheControl.parse(request.headers.get("cache-control")),
        request.headers.get("x-triage-tier"),
        request.headers.get("x-request-id"),
    )
    request.state.request_id = life.request_id
    try:
        principal = await runtime.auth.client(request.headers.get("authorization"))
        chat, raw = _parse(await _read_body(request, runtime.settings.limits.max_body_bytes))
        check_limits(chat, runtime.settings)
        await life.admit(principal, chat, raw)
        if chat.stream:
            outcome = await life.stream_response(chat, raw)
            assert outcome.events is not None
            headers = {**outcome.headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            # finished in the stream's own finally, and again (a no-op then) after the response,
            # which also covers a client that left before the stream started
            return StreamingResponse(
                _finished(outcome.events, life),
                media_type="text/event-stream",
                headers=headers,
                background=BackgroundTask(life.finish, 200),
            )
        outcome = await life.complete(chat, raw)
    except GatewayError as exc:
        exc.headers.update({k: v for k, v in life.headers().items() if k not in exc.headers})
        await life.finish(exc.status)
        raise
    except Exception:
        # A defect, never client input: still release the reservations and record the request.
        log.exception("request %s: unhandled error", life.request_id)
        await life.finish(500)
        error = InternalError("internal error in the gateway")
        error.headers["x-triage-request-id"] = error.headers["x-request-id"] = life.request_id
        raise error from None
    await life.finish(200)
    return Response(outcome.body, media_type="application/json", headers=outcome.headers)


async def _finished(events: AsyncIterator[bytes], life: RequestLifecycle) -> AsyncIterator[bytes]:
    """Pass a stream through; once it ended (or the client went away), finish the request."""
    try:
        async for event in events:
            yield event
    finally:
        closer = getattr(events, "aclose", None)
        if closer is not None:
            await closer()
        await life.finish(200)
