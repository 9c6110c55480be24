"""``GET /metrics``: the Prometheus exposition of the app's registry."""

from __future__ import annotations

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.responses import Response

from gateway.wiring import Runtime

metrics_api = APIRouter()


@metrics_api.get("/metrics")
async def metrics(request: Request) -> Response:
    runtime: Runtime | None = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return Response(b"", media_type=CONTENT_TYPE_LATEST)
    await runtime.refresh_gauges()
    return Response(runtime.exposition(), media_type=CONTENT_TYPE_LATEST)
