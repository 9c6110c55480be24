"""The hot path: the generation endpoints served straight from ASGI, past FastAPI's machinery.

FastAPI resolves dependencies, builds a routing match and runs two middlewares for every
request; on the one-core profile that was a fifth of the gateway's CPU (the readiness
dependency alone hopped through a worker thread). ``POST`` to a generation endpoint is
dispatched here instead, by one dictionary lookup, to the same ``serve`` the FastAPI handlers
call, with the runtime from the same ``Services.serving()``. Everything else (models, admin,
health, metrics, feedback, the UI, the OpenAPI document, which still declares these
endpoints) is FastAPI's. Errors are rendered by the same functions FastAPI's handlers use.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from gateway.http import chat, completions, embeddings, messages, responses
from gateway.http.deps import Services
from gateway.http.serving import Surface, serve
from gateway.protocol.errors import render_error

SURFACES: Mapping[str, Surface] = MappingProxyType(
    {
        chat.PATH: chat.CHAT,
        responses.PATH: responses.RESPONSES,
        messages.PATH: messages.MESSAGES,
        completions.PATH: completions.COMPLETIONS,
        embeddings.PATH: embeddings.EMBEDDINGS,
    }
)


def hot_surface(scope: Scope) -> Surface | None:
    """The surface a request goes to on the hot path, or None (FastAPI serves it)."""
    if scope["type"] != "http" or scope["method"] != "POST":
        return None
    return SURFACES.get(scope["path"])


class HotPath:
    """An ASGI app for the hot endpoints' ``POST`` requests."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        surface = SURFACES[scope["path"]]
        request = Request(scope, receive)
        try:
            runtime = self._services.serving()
            response = await serve(request, runtime, surface)
        except Exception as exc:  # rendered once, here, as FastAPI's handlers would
            response = render_error(exc, getattr(request.state, "request_id", "-"))
        await response(scope, receive, send)
