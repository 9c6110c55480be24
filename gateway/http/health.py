"""``/healthz`` (the process is alive) and ``/readyz`` (it can serve)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import Response

from gateway.http.deps import Serving
from gateway.protocol.errors import json_response

health_api = APIRouter()


@health_api.get("/healthz")
async def healthz() -> Response:
    return json_response(200, {"status": "ok"})


@health_api.get("/readyz")
async def readyz(runtime: Serving) -> Response:
    redis = await runtime.redis_state()  # an active ping: readiness does not wait for a request to notice
    body = {"status": "ready", **runtime.ready_state(), "redis": redis}
    return json_response(200, body)
