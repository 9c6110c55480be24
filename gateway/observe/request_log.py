"""One structured JSON log line per request, on the ``triage.request`` logger (stdout).

Fields: ts, request_id, profile, status, cache, cache_similarity (a semantic hit's), score,
router, tier, model, decided_tier, reason, detail, retries, fallbacks, errors, latency_ms, ttft_ms, upstream_ms,
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

from gateway.request.values import RequestRecord

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


def request_line(rec: RequestRecord) -> dict[str, Any]:
    trace, answered, decision, score = rec.trace, rec.answered, rec.decision, rec.score
    usage = answered.usage if answered is not None else None
    first_byte_s = answered.first_byte_s if answered is not None else None
    line: dict[str, Any] = {
        "ts": round(time.time(), 3),
        "request_id": rec.request_id,
        "profile": rec.profile,
        "tenant": rec.admitted.namespace,
        "status": rec.status,
        "stream": rec.stream,
        "cache": rec.cache_status,
        "cache_similarity": _similarity(rec),
        "score": round(score.value, 4) if score else None,
        "router": score.router if score else None,
        "tier": answered.tier if answered else None,
        "model": answered.model if answered else None,
        "decided_tier": decision.tier if decision else None,
        "reason": decision.reason if decision else None,
        "detail": decision.detail if decision else None,
        "retries": trace.retries,
        "fallbacks": trace.fallbacks,
        "errors": [f"{tier}:{kind}" for tier, kind in trace.errors],
        "latency_ms": round(rec.elapsed_s * 1000, 2),
        "ttft_ms": round(first_byte_s * 1000, 2) if first_byte_s is not None else None,
        "upstream_ms": round(trace.upstream_s * 1000, 2),
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": usage.completion_tokens if usage else None,
        "cost_usd": answered.cost if answered else None,
        "savings_usd": round(answered.savings_usd, 10) if answered else 0.0,
    }
    if rec.prompt is not None:
        line["prompt"] = rec.prompt[:2000]
    return line


def log_request(logger: logging.Logger, rec: RequestRecord) -> None:
    if logger.isEnabledFor(logging.INFO):
        logger.info(orjson.dumps(request_line(rec)).decode())


def _similarity(rec: RequestRecord) -> float | None:
    entry = rec.looked.entry if rec.looked is not None else None
    return round(entry.similarity, 4) if entry is not None and entry.similarity is not None else None
