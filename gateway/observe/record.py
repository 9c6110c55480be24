"""Recording one finished request into the metrics: one call, at the end of the request.

Savings are counted against the counterfactual of sending the same request to the
frontier tier: the frontier tier's prices applied to the same input and output
tokens, minus what was spent (never below 0). Limits of the method: a frontier model
might have answered with a different number of tokens, and a cache hit counts the
whole frontier price as saved (under ``tier="cache"``).
"""

from __future__ import annotations

import time

from gateway.observe.metrics import Metrics
from gateway.request.state import RequestContext


def record(metrics: Metrics, ctx: RequestContext, status: int, cache_backend: str, cache_up: bool) -> None:
    elapsed = time.perf_counter() - ctx.started
    stream = "true" if ctx.stream else "false"
    tier = ctx.tier or "none"
    metrics.requests.labels(ctx.profile, tier, f"{status // 100}xx", ctx.cache_status or "none").inc()
    metrics.request_duration.labels(ctx.profile, stream).observe(elapsed)
    metrics.cache_up.labels(cache_backend).set(1 if cache_up else 0)
    if ctx.stream and ctx.first_byte_s is not None:
        metrics.ttft.labels(tier).observe(ctx.first_byte_s)
        metrics.overhead.labels(stream).observe(max(ctx.first_byte_s - ctx.trace.upstream_s, 0.0))
    elif not ctx.stream:
        metrics.overhead.labels(stream).observe(max(elapsed - ctx.trace.upstream_s, 0.0))
    if ctx.cache_status is not None:
        metrics.cache_requests.labels(ctx.cache_status).inc()
    if ctx.cache_status == "hit":
        metrics.cache_saved.inc(ctx.saved_usd)
        metrics.savings.labels("cache").inc(ctx.savings_usd)
        return
    _route(metrics, ctx)
    _upstream(metrics, ctx)


def _route(metrics: Metrics, ctx: RequestContext) -> None:
    if ctx.score is not None:
        metrics.router_score.labels(ctx.score.router).observe(ctx.score.value)
        metrics.router_latency.labels(ctx.score.router).observe(ctx.score.latency_s)
    if ctx.decision is not None:
        metrics.decisions.labels(ctx.profile, ctx.decision.tier, ctx.decision.reason).inc()


def _upstream(metrics: Metrics, ctx: RequestContext) -> None:
    trace = ctx.trace
    for tier, kind in trace.errors:
        metrics.upstream_errors.labels(tier, kind).inc()
    for tier, count in trace.retries_by_tier().items():
        metrics.retries.labels(tier).inc(count)
    if ctx.tier is None or ctx.model is None:
        return
    if trace.attempts:
        metrics.upstream_latency.labels(ctx.tier).observe(trace.upstream_s)
    if ctx.decision is not None and ctx.tier != ctx.decision.tier:
        metrics.fallbacks.labels(ctx.decision.tier, ctx.tier).inc()
    if ctx.interrupted:
        metrics.stream_interruptions.labels(ctx.tier).inc()
    if ctx.usage is not None:
        metrics.tokens.labels(ctx.model, "input").inc(ctx.usage.prompt_tokens)
        metrics.tokens.labels(ctx.model, "output").inc(ctx.usage.completion_tokens)
    if ctx.cost is not None:
        metrics.cost.labels(ctx.tier, ctx.model).inc(ctx.cost)
        metrics.savings.labels(ctx.tier).inc(ctx.savings_usd)
