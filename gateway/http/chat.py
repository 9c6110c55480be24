"""``POST /v1/chat/completions``: the chat path as it is (see ``gateway.http.serving``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import Response

from gateway.http.deps import Serving
from gateway.http.serving import Parsed, Surface, chat_view, serve
from gateway.settings import Settings

chat_api = APIRouter()


def _parse(raw: dict[str, Any], settings: Settings) -> Parsed:
    return Parsed(chat_view(raw), raw, raw)


PATH = "/v1/chat/completions"  # served by the hot path (gateway/http/hot.py); declared here for the OpenAPI document
CHAT = Surface("chat", _parse)


def openapi_operation(component: str) -> dict[str, Any]:
    """The ``openapi_extra`` of a generation endpoint whose body is ``component``."""
    return {
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
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


@chat_api.post(PATH, openapi_extra=openapi_operation("ChatCompletionRequest"))
async def chat_completions(request: Request, runtime: Serving) -> Response:
    return await serve(request, runtime, CHAT)
