"""``POST /v1/responses`` (OpenAI's Responses API): routed like chat, answered as a Response.

The request is translated to a chat-completions body at the surface
(``gateway.protocol.responses_api``); routing, profiles, pinned tiers, policies, the
cache, keys, limits, budgets, metrics and headers apply unchanged; the answer — a whole
body or the chat stream — is translated back into a Response or its event stream.
Stateless only: Triage stores no responses, so ``previous_response_id`` is a 400. When every
tier of the route speaks the Responses API itself (the ``responses`` capability, relay
transport), the client's request is relayed as it is and the upstream's answer comes back
as it came (events re-framed with their ``event:`` lines).
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
from gateway.protocol import responses_api, responses_stream
from gateway.protocol.responses_native import passthrough
from gateway.settings import Settings

responses_api_ = APIRouter()


def _parse(raw: dict[str, Any], settings: Settings) -> Parsed:
    view = responses_api.chat_request(raw)
    return Parsed(chat_view(view), view, raw, native=raw)


def _body(body: bytes, original: Mapping[str, Any]) -> bytes:
    return orjson.dumps(responses_api.response_body(orjson.loads(body), original))


PATH = "/v1/responses"  # served by the hot path (gateway/http/hot.py); declared here for the OpenAPI document
RESPONSES = Surface("responses", _parse, _body, responses_stream.stream_events, native_events=passthrough)


@responses_api_.post(PATH, openapi_extra=openapi_operation("ResponseRequest"))
async def responses(request: Request, runtime: Serving) -> Response:
    return await serve(request, runtime, RESPONSES)
