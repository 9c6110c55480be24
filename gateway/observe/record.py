"""Recording one finished request into the metrics: one call, at the end of the request.

Savings are counted against the counterfactual of sending the same request to the
frontier tier: the frontier tier's prices applied to the same input and output
tokens, minus what was spent (never below 0). Limits of the method: a frontier model
might have answered with a different number of tokens, and a cache hit counts the
whole frontier price as saved (under ``tier="cache"``).
"""

from __future__ import annotations

from gateway.observe.metrics import Metrics
from gateway.request.values import RequestRecord


def record(metrics: Metrics, rec: RequestRecord, cache_backend: str, cache_up: bool) -> None:
    stream = "true" if rec.stream else "false"
    answered = rec.answered
    tier = answered.tier if answered is not None else "none"
    metrics.served.inc()
    metrics.requests.labels(rec.profile, tier, f"{rec.status // 100}xx", rec.cache_status or "none", rec.endpoint).inc()
    metrics.request_duration.labels(rec.profile, stream).observe(rec.elapsed_s)
    metrics.cache_up.labels(cache_backend).set(1 if cache_up else 0)
    first_byte_s = answered.first_byte_s if answered is not None else None
    if rec.stream and first_byte_s is not None:
        metrics.ttft.labels(tier).observe(first_byte_s)
        metrics.overhead.labels(stream).observe(max(first_byte_s - rec.trace.upstream_s, 0.0))
    elif not rec.stream:
        metrics.overhead.labels(stream).observe(max(rec.elapsed_s - rec.trace.upstream_s, 0.0))
    if rec.cache_status is not None:
        metrics.cache_requests.labels(rec.cache_status).inc()
    if rec.cache_status in ("hit", "semantic_hit") and answered is not None:
        metrics.cache_saved.inc(answered.saved_usd)
        metrics.savings.labels("cache").inc(answered.savings_usd)
        return
    _route(metrics, rec)
    _upstream(metrics, rec)


def _route(metrics: Metrics, rec: RequestRecord) -> None:
    if rec.score is not None:
        metrics.router_score.labels(rec.score.router).observe(rec.score.value)
        if rec.score.ood:
            metrics.router_ood.labels(rec.profile, rec.score.router).inc()
        metrics.router_latency.labels(rec.score.router).observe(rec.score.latency_s)
    if rec.decision is not None:
        metrics.decisions.labels(rec.profile, rec.decision.tier, rec.decision.reason).inc()


def _upstream(metrics: Metrics, rec: RequestRecord) -> None:
    trace = rec.trace
    for tier, kind in trace.errors:
        metrics.upstream_errors.labels(tier, kind).inc()
    for tier, count in trace.retries_by_tier().items():
        metrics.retries.labels(tier).inc(count)
    answered = rec.answered
    if answered is None:
        return
    if trace.attempts:
        metrics.upstream_latency.labels(answered.tier).observe(trace.upstream_s)
    if rec.decision is not None and answered.tier != rec.decision.tier:
        metrics.fallbacks.labels(rec.decision.tier, answered.tier).inc()
    if answered.interrupted:
        metrics.stream_interruptions.labels(answered.tier).inc()
    if answered.usage is not None:
        metrics.tokens.labels(answered.model, "input").inc(answered.usage.prompt_tokens)
        metrics.tokens.labels(answered.model, "output").inc(answered.usage.completion_tokens)
    if answered.cost is not None:
        metrics.cost.labels(answered.tier, answered.model).inc(answered.cost)
        metrics.savings.labels(answered.tier).inc(answered.savings_usd)
