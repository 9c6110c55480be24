"""The hot path (gateway/http/hot.py): generation POSTs bypass FastAPI, everything else does not."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.http.hot import SURFACES, hot_surface
from gateway.protocol.errors import GatewayError, render_error
from gateway.state.keys import KeyStoreUnavailable
from gateway.upstream.fake import FakeTransport
from tests.gateway.request.test_lifecycle import HELLO, Script, completion, settings


@asynccontextmanager
async def app_client(**extra: Any) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings(**extra), environ={}, transports={"relay": FakeTransport(Script(completion()))})
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://gw") as client:
        yield app, client


def test_only_generation_posts_take_the_hot_path() -> None:
    def scope(method: str, path: str, kind: str = "http") -> dict[str, Any]:
        return {"type": kind, "method": method, "path": path}

    assert set(SURFACES) == {
        "/v1/chat/completions",
        "/v1/responses",
        "/v1/messages",
        "/v1/completions",
        "/v1/embeddings",
    }
    assert hot_surface(scope("POST", "/v1/chat/completions")) is SURFACES["/v1/chat/completions"]
    for miss in (
        scope("GET", "/v1/chat/completions"),
        scope("POST", "/v1/models"),
        scope("POST", "/v1/chat/completions/"),
    ):
        assert hot_surface(miss) is None
    assert hot_surface({"type": "websocket", "path": "/v1/chat/completions"}) is None


async def test_the_hot_path_serves_chat_without_fastapi_routing(monkeypatch: pytest.MonkeyPatch) -> None:
    async with app_client() as (app, client):
        routed: list[str] = []
        original = app.router.__call__

        async def spy(scope: Any, receive: Any, send: Any) -> None:
            routed.append(scope["path"])
            await original(scope, receive, send)

        monkeypatch.setattr(app, "router", type("R", (), {"__call__": staticmethod(spy)})(), raising=False)
        app.middleware_stack = None  # rebuilt around the spy on the next FastAPI request
        ok = await client.post("/v1/chat/completions", json={"model": "cheap", "messages": HELLO})
        assert ok.status_code == 200 and ok.headers["x-triage-tier"] == "cheap"
        assert routed == []  # FastAPI never saw it
        bad = await client.post("/v1/chat/completions", content=b"{not json")
        assert bad.status_code == 400 and bad.json()["error"]["type"] == "invalid_request_error"
        assert routed == []


async def test_other_routes_and_the_openapi_document_stay_fastapis() -> None:
    async with app_client() as (_app, client):
        models = await client.get("/v1/models")
        assert models.status_code == 200
        document = (await client.get("/openapi.json")).json()
        assert {"/v1/chat/completions", "/v1/responses", "/v1/messages"} <= set(document["paths"])
        wrong_method = await client.get("/v1/chat/completions")
        assert wrong_method.status_code == 405 and "error" in wrong_method.json()


async def test_not_ready_and_draining_are_503s_on_the_hot_path() -> None:
    async with app_client() as (app, client):
        runtime = app.state.runtime
        runtime.ready = False
        not_ready = await client.post("/v1/chat/completions", json={"model": "cheap", "messages": HELLO})
        assert not_ready.status_code == 503 and not_ready.json()["error"]["code"] == "not_ready"
        runtime.ready, runtime.draining = True, True
        draining = await client.post("/v1/messages", json={"model": "cheap", "max_tokens": 5, "messages": HELLO})
        assert draining.status_code == 503 and draining.json()["error"]["code"] == "shutting_down"
        models = await client.get("/v1/models")  # the FastAPI side asks the same Services
        assert models.status_code == 503 and models.json()["error"]["code"] == "shutting_down"


async def test_cors_headers_come_on_the_hot_path_too() -> None:
    async with app_client(cors={"allow_origins": ["https://app.example"]}) as (_app, client):
        answer = await client.post(
            "/v1/chat/completions",
            json={"model": "cheap", "messages": HELLO},
            headers={"Origin": "https://app.example"},
        )
        assert answer.status_code == 200
        assert answer.headers["access-control-allow-origin"] == "https://app.example"
        assert "x-triage-tier" in answer.headers["access-control-expose-headers"]


def test_render_error_shapes_every_exception_like_openai() -> None:
    gateway = render_error(GatewayError("nope"))
    store = render_error(KeyStoreUnavailable("redis down"))
    defect = render_error(RuntimeError("bug"))
    assert (store.status_code, defect.status_code) == (503, 500)
    assert gateway.status_code >= 400
    for response in (gateway, store, defect):
        assert response.media_type == "application/json" and b'"error"' in response.body
