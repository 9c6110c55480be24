"""``POST /v1/embeddings``: served by a tier of ``kind: embeddings``, never routed by difficulty.

``model`` names the embeddings tier. Keys (tier permissions), rate limits, budgets, cost
metrics and the cache apply as for chat: the chat view of the request (its inputs as one
user message, temperature 0 since embeddings are deterministic, hence cached by default)
is what the limits and the cache key read; the tier receives the client's body at its
``/embeddings`` (batch input and ``encoding_format: base64`` pass through).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.http.chat import openapi_operation
from gateway.http.deps import Serving
from gateway.http.serving import Parsed, Surface, chat_view, serve
from gateway.protocol.errors import InvalidRequest
from gateway.settings import Settings

embeddings_api = APIRouter()


def _texts(raw: dict[str, Any]) -> list[str]:
    value = raw.get("input")
    if isinstance(value, str) and value:
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return list(value)
    if isinstance(value, list) and value and all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return [" ".join(map(str, value))]  # token ids: counted for limits as their digits (an over-estimate)
    if isinstance(value, list) and value and all(isinstance(v, list) and v for v in value):
        return [" ".join(map(str, v)) for v in value]
    raise InvalidRequest("input: must be a non-empty string, a list of non-empty strings, or token ids", param="input")


def _parse(raw: dict[str, Any], settings: Settings) -> Parsed:
    texts = _texts(raw)
    encoding = raw.get("encoding_format")
    if encoding is not None and encoding not in ("float", "base64"):
        raise InvalidRequest("encoding_format: must be 'float' or 'base64'", param="encoding_format")
    view: dict[str, Any] = {
        "model": raw.get("model"),
        "messages": [{"role": "user", "content": "\n".join(texts)}],
        "temperature": 0,
        "max_tokens": 1,  # nothing is generated: the budget estimate is the input alone
    }
    if isinstance(raw.get("user"), str):
        view["user"] = raw["user"]
    return Parsed(chat_view(view), view, raw, upstream=raw)


PATH = "/v1/embeddings"  # served by the hot path (gateway/http/hot.py); declared here for the OpenAPI document
EMBEDDINGS = Surface("embeddings", _parse)


@embeddings_api.post(PATH, openapi_extra=openapi_operation("EmbeddingRequest"))
async def embeddings(request: Request, runtime: Serving) -> Response:
    return await serve(request, runtime, EMBEDDINGS)
