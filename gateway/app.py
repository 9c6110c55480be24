"""``create_app(settings)``: the FastAPI app and the ``lifespan`` that builds its runtime.

Nothing is created at import time. The lifespan validates and builds every
runtime object (targets, routers, transports) before the server reports ready;
on shutdown it closes them.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Receive, Scope, Send

from gateway.http import (
    admin,
    chat,
    completions,
    embeddings,
    feedback,
    health,
    messages,
    metrics,
    models,
    responses,
    ui,
)
from gateway.http.deps import Services
from gateway.http.hot import HotPath, hot_surface
from gateway.http.openapi import components as request_components
from gateway.protocol.errors import install_handlers
from gateway.settings import Settings
from gateway.upstream.base import Transport
from gateway.wiring import Runtime, build_runtime

log = logging.getLogger("triage.app")


def _declare_chat_schema(app: FastAPI) -> None:
    """Add the request schemas to the OpenAPI document (the handlers parse raw bodies)."""
    default = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = default()
            document.setdefault("components", {}).setdefault("schemas", {}).update(request_components())
            app.openapi_schema = document
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


class TriageApp(FastAPI):
    """FastAPI, with the generation endpoints' ``POST`` requests taken by the hot path first."""

    hot: ASGIApp | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.hot is not None and hot_surface(scope) is not None:
            await self.hot(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(
    settings: Settings, environ: Mapping[str, str] | None = None, transports: Mapping[str, Transport] | None = None
) -> FastAPI:
    """The gateway app for ``settings``; secrets are read from ``environ`` at start-up.

    ``transports`` overrides the upstream transports (tests use the in-process fake).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime: Runtime = build_runtime(settings, environ, transports)
        app.state.runtime = services.runtime = runtime
        if settings.auth.mode == "none":
            log.warning(
                "AUTH IS OFF (auth.mode: none): anyone who can reach %s:%d can use this gateway and spend "
                "its provider keys; set auth.mode: keys before exposing it",
                settings.listen.host,
                settings.listen.port,
            )
        runtime.start()
        log.info(
            "triage ready: tiers %s, profiles %s",
            ", ".join(f"{n}={t.model} via {t.resolved_transport}" for n, t in settings.tiers.items()),
            ", ".join(settings.profiles) or "(none)",
        )
        try:
            yield
        finally:
            await runtime.aclose()

    # no slash redirects: a redirect's Location would be built from the client's Host header
    services = Services()
    app = TriageApp(
        title="Triage", version="0.1.0", lifespan=lifespan, docs_url=None, redoc_url=None, redirect_slashes=False
    )
    app.state.settings = settings
    app.state.services = services
    app.hot = HotPath(services)
    install_handlers(app)
    _declare_chat_schema(app)
    app.include_router(chat.chat_api)
    app.include_router(completions.completions_api)
    app.include_router(embeddings.embeddings_api)
    app.include_router(responses.responses_api_)
    app.include_router(messages.messages_api)
    app.include_router(models.models_api)
    app.include_router(health.health_api)
    app.include_router(metrics.metrics_api)
    app.include_router(admin.admin_api)
    app.include_router(feedback.feedback_api)
    if settings.ui.enabled:  # off, /ui and /ui/data do not exist (404 like any unknown path)
        app.include_router(ui.ui_api)
    if settings.cors.allow_origins:
        from starlette.middleware.cors import CORSMiddleware

        cors = _cors_options(settings)
        app.add_middleware(CORSMiddleware, **cors)
        app.hot = CORSMiddleware(app.hot, **cors)  # the hot path answers with the same CORS headers
    return app


def _cors_options(settings: Settings) -> dict[str, Any]:
    return {
        "allow_origins": list(settings.cors.allow_origins),
        "allow_methods": ["GET", "POST", "DELETE", "OPTIONS"],
        "allow_headers": list(settings.cors.allow_headers),
        "expose_headers": [
            "x-triage-tier",
            "x-triage-model",
            "x-triage-score",
            "x-triage-request-id",
            "x-triage-cache",
            "x-triage-cache-similarity",
            "x-triage-cost-usd",
            "x-triage-reason",
        ],
    }
