"""``POST /v1/chat/completions``: parse, hand to the pipeline, serialise."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
from fastapi import APIRouter, Request
from pydantic import ValidationError
from starlette.responses import Response, StreamingResponse

from gateway.cache.policy import CacheControl
from gateway.protocol.errors import (
    GatewayError,
    InternalError,
    InvalidRequest,
    NotReady,
    PayloadTooLarge,
    ShuttingDown,
    invalid_fields,
)
from gateway.protocol.schemas import MAX_JSON_DEPTH, ChatCompletionRequest, too_deep
from gateway.request.admission import admit, check_limits, settle_tokens
from gateway.request.state import RequestContext, new_request_id
from gateway.wiring import Runtime

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
async def chat_completions(request: Request) -> Response:
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if runtime is not None and runtime.draining:
        raise ShuttingDown("the gateway is shutting down; retry on another replica")
    if runtime is None or not runtime.ready:
        raise NotReady("the gateway is not ready to serve")
    ctx = RequestContext(
        request_id=new_request_id(),
        started=time.perf_counter(),
        cache_control=CacheControl.parse(request.headers.get("cache-control")),
        tier_header=request.headers.get("x-triage-tier"),
    )
    request.state.request_id = ctx.request_id
    limit_headers: dict[str, str] = {}
    try:
        principal = await runtime.auth.client(request.headers.get("authorization"))
        chat, raw = _parse(await _read_body(request, runtime.settings.limits.max_body_bytes))
        check_limits(chat, runtime.settings)
        limit_headers = await admit(principal, chat, runtime.settings, runtime.limiter, ctx)
        ctx.stream = chat.stream
        if runtime.settings.log_prompts:
            ctx.prompt = _last_user_text(chat)
        if chat.stream:
            outcome = await runtime.pipeline.stream(chat, raw, ctx)
            headers = {**outcome.headers, **limit_headers, "Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
            return StreamingResponse(
                _recorded(outcome.events, runtime, ctx), media_type="text/event-stream", headers=headers
            )
        result = await runtime.pipeline.complete(chat, raw, ctx)
    except GatewayError as exc:
        exc.headers.setdefault("x-triage-request-id", ctx.request_id)
        exc.headers.update({k: v for k, v in limit_headers.items() if k not in exc.headers})
        await _finish(runtime, ctx, exc.status)
        raise
    except Exception:
        # A defect, never client input: still release the reservations and record the request.
        log.exception("request %s: unhandled error", ctx.request_id)
        await _finish(runtime, ctx, 500)
        error = InternalError("internal error in the gateway")
        error.headers["x-triage-request-id"] = ctx.request_id
        raise error from None
    await _finish(runtime, ctx, 200)
    return Response(result.body, media_type="application/json", headers={**result.headers, **limit_headers})


def _last_user_text(chat: ChatCompletionRequest) -> str:
    for message in reversed(chat.messages):
        if message.role == "user":
            return message.text
    return ""


async def _finish(runtime: Runtime, ctx: RequestContext, status: int) -> None:
    """Settle every budget reservation and the TPM estimate, then record; safe to repeat."""
    try:
        await runtime.pipeline.settle(ctx)
        await settle_tokens(runtime.limiter, ctx)
    finally:
        runtime.record(ctx, status)


async def _recorded(events: AsyncIterator[bytes], runtime: Runtime, ctx: RequestContext) -> AsyncIterator[bytes]:
    """Pass a stream through and record it once it ended (or the client went away)."""
    try:
        async for event in events:
            yield event
    finally:
        closer = getattr(events, "aclose", None)
        if closer is not None:
            await closer()
        await _finish(runtime, ctx, 200)
