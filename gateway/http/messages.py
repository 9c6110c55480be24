"""``POST /v1/messages`` (Anthropic's Messages API): routed like chat, answered in Anthropic's shape.

Triage keys come as ``x-api-key`` or ``Authorization: Bearer``; ``anthropic-version`` is
accepted (the shape served is the current one). The request is translated to a chat body
(``gateway.protocol.anthropic_api``), runs the chat path (routing, cache, keys, limits,
budgets, metrics, headers), and the answer comes back as a message — content blocks,
``stop_reason``, usage — or as the ``message_start`` … ``message_stop`` event stream,
whatever the tier's provider. Errors on this endpoint use Anthropic's error shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.http.chat import openapi_operation
from gateway.http.deps import Serving
from gateway.http.serving import Parsed, Surface, chat_view, serve
from gateway.protocol import anthropic_api, anthropic_stream
from gateway.protocol.errors import GatewayError
from gateway.settings import Settings

messages_api = APIRouter()


def _parse(raw: dict[str, Any], settings: Settings) -> Parsed:
    view = anthropic_api.chat_request(raw)
    return Parsed(chat_view(view), view, raw)


def _body(body: bytes, original: Mapping[str, Any]) -> bytes:
    return orjson.dumps(anthropic_api.message_body(orjson.loads(body), original))


def _error(exc: GatewayError) -> Response:
    body = anthropic_api.error_body(exc.status, exc.message)
    return Response(orjson.dumps(body), status_code=exc.status, headers=exc.headers, media_type="application/json")


PATH = "/v1/messages"  # served by the hot path (gateway/http/hot.py); declared here for the OpenAPI document
MESSAGES = Surface("messages", _parse, _body, anthropic_stream.stream_events, _error)


@messages_api.post(PATH, openapi_extra=openapi_operation("MessagesRequest"))
async def messages(request: Request, runtime: Serving) -> Response:
    return await serve(request, runtime, MESSAGES)
