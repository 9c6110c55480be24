"""One structured JSON log line per request, on the ``triage.request`` logger (stdout).

Fields: ts, request_id, profile, status, cache, score, router, tier, model, decided_tier,
reason, detail, retries, fallbacks, errors, latency_ms, ttft_ms, upstream_ms,
prompt_tokens, completion_tokens, cost_usd, savings_usd, stream. No prompt text unless
``log_prompts: true`` (then ``prompt``: the last user message, cut to 2,000 characters).
Never a key: the tenant appears only as its namespace hash.
"""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import orjson

from gateway.request.state import RequestContext

LOGGER = "triage.request"


def configure() -> logging.Logger:
    """The request logger: raw JSON lines on stdout, not mixed into other loggers' format."""
    logger = logging.getLogger(LOGGER)
    if not logger.handlers:
        handler = logging.StreamHandler(sys.stdout)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.propagate = False
        logger.setLevel(logging.INFO)
    return logger


def request_line(ctx: RequestContext, status: int) -> dict[str, Any]:
    trace = ctx.trace
    line: dict[str, Any] = {
        "ts": round(time.time(), 3),
        "request_id": ctx.request_id,
        "profile": ctx.profile,
        "tenant": ctx.namespace,
        "status": status,
        "stream": ctx.stream,
        "cache": ctx.cache_status,
        "score": round(ctx.score.value, 4) if ctx.score else None,
        "router": ctx.score.router if ctx.score else None,
        "tier": ctx.tier,
        "model": ctx.model,
        "decided_tier": ctx.decision.tier if ctx.decision else None,
        "reason": ctx.decision.reason if ctx.decision else None,
        "detail": ctx.decision.detail if ctx.decision else None,
        "retries": trace.retries,
        "fallbacks": trace.fallbacks,
        "errors": [f"{tier}:{kind}" for tier, kind in trace.errors],
        "latency_ms": round((time.perf_counter() - ctx.started) * 1000, 2),
        "ttft_ms": round(ctx.first_byte_s * 1000, 2) if ctx.first_byte_s is not None else None,
        "upstream_ms": round(trace.upstream_s * 1000, 2),
        "prompt_tokens": ctx.usage.prompt_tokens if ctx.usage else None,
        "completion_tokens": ctx.usage.completion_tokens if ctx.usage else None,
        "cost_usd": ctx.cost,
        "savings_usd": round(ctx.savings_usd, 10),
    }
    if ctx.prompt is not None:
        line["prompt"] = ctx.prompt[:2000]
    return line


def log_request(logger: logging.Logger, ctx: RequestContext, status: int) -> None:
    if logger.isEnabledFor(logging.INFO):
        logger.info(orjson.dumps(request_line(ctx, status)).decode())
