"""``POST /v1/completions`` (legacy text completions): routed on the prompt, relayed as a completion.

The router, token counts, limits and budget read a chat view of the request (the prompt
as one user message); the tier receives the client's completion body untouched at its
``/completions``. Only tiers with the ``completions`` capability take these requests: the
policy escalates past a tier without it, and when no tier has it the answer is a 400
``unsupported_feature``. Prompts given as token ids are refused (routing reads text).
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

completions_api = APIRouter()

# fields with the same meaning in both APIs, copied into the chat view (limits, cache, budget)
_SHARED = ("model", "stream", "stream_options", "temperature", "top_p", "max_tokens", "stop", "seed", "user")


def prompts(raw: dict[str, Any]) -> list[str]:
    prompt = raw.get("prompt")
    if isinstance(prompt, str):
        return [prompt]
    if isinstance(prompt, list) and prompt and all(isinstance(p, str) for p in prompt):
        return list(prompt)
    if isinstance(prompt, list) and prompt and all(isinstance(p, int | list) for p in prompt):
        raise InvalidRequest(
            "prompt: token-id prompts are not supported (Triage routes on the text); send the prompt as text",
            param="prompt",
            code="unsupported_feature",
        )
    raise InvalidRequest("prompt: must be a non-empty string or list of strings", param="prompt")


def _parse(raw: dict[str, Any], settings: Settings) -> Parsed:
    texts = prompts(raw)
    view: dict[str, Any] = {k: raw[k] for k in _SHARED if k in raw}
    view["messages"] = [{"role": "user", "content": "\n\n".join(texts)}]
    n = raw.get("n", 1)
    if not isinstance(n, int) or isinstance(n, bool) or n < 1:
        raise InvalidRequest("n: must be a positive integer", param="n")
    if n * len(texts) > 1:
        view["n"] = n * len(texts)  # one choice per prompt and n: what limits and budgets count
    return Parsed(chat_view(view), view, raw, upstream=raw)


PATH = "/v1/completions"  # served by the hot path (gateway/http/hot.py); declared here for the OpenAPI document
COMPLETIONS = Surface("completions", _parse)


@completions_api.post(PATH, openapi_extra=openapi_operation("CompletionRequest"))
async def completions(request: Request, runtime: Serving) -> Response:
    return await serve(request, runtime, COMPLETIONS)
