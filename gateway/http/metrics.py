"""``GET /metrics``: the Prometheus exposition of the app's registry."""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.responses import Response

from gateway.request.pipeline import GLOBAL_BUDGET

metrics_api = APIRouter()


@metrics_api.get("/metrics")
async def metrics(request: Request) -> Response:
    runtime = getattr(request.app.state, "runtime", None)
    if runtime is None:
        return Response(b"", media_type=CONTENT_TYPE_LATEST)
    store, pipeline, metrics = runtime.cache.store, runtime.pipeline, runtime.metrics
    metrics.cache_up.labels(store.backend).set(1 if store.state == "ok" else 0)
    if runtime.redis is not None:
        metrics.redis_up.set(1 if await runtime.redis_state() == "ok" else 0)
    now = time.time()
    metrics.set_health(pipeline.breakers.health(now))
    limit = pipeline.budgets.settings.limit_usd
    if limit is not None:
        snapshot = await pipeline.budgets.snapshot(GLOBAL_BUDGET, now, limit)
        metrics.budget_spent.labels(snapshot.scope).set(snapshot.spent_usd)
        metrics.budget_remaining.labels(snapshot.scope).set(max(snapshot.limit_usd - snapshot.spent_usd, 0.0))
    return Response(generate_latest(runtime.metrics.registry), media_type=CONTENT_TYPE_LATEST)
