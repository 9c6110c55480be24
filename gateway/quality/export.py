"""``triage outcomes export``: outcome rows → routing-train rows, or chat fine-tuning rows.

``routing`` (default): one row per shadowed request with a stored prompt, in the schema of
``routing-train.jsonl`` (``id``, ``prompt``, ``source``, ``category``, ``strong_model``,
``weak_model``, ``strong_score``, ``weak_score``) plus ``request_id``, ``profile`` and
``ts``; ``category`` is the profile. A human's feedback on the same request replaces the
judge's score of the answer the client got. Feedback on a request that was not shadowed
carries one side only, so it is counted and left out (``router train`` needs both).

``openai-chat``: for every shadowed request with stored answers, the conversation plus
the frontier tier's answer as ``{"messages": [...]}`` — rows to distill the cheap model
from the deployment's own frontier traffic.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from gateway.quality.store import FileOutcomeStore, redis_rows
from gateway.settings import Settings


@dataclass(slots=True)
class ExportCounts:
    rows: int = 0
    exported: int = 0
    without_prompt: int = 0
    without_answers: int = 0
    feedback_only: int = 0


def stored_rows(settings: Settings, since: float = 0.0) -> list[dict[str, Any]]:
    """Every outcome row the config's store holds at or after ``since``."""
    quality = settings.quality
    if quality is None:
        raise ValueError("the config has no `quality` section: nothing was stored")
    if settings.redis.url is None:
        return list(FileOutcomeStore(quality.store).rows(since))
    from gateway.state.redis import build_redis

    async def read() -> list[dict[str, Any]]:
        client = build_redis(settings.redis.model_copy(update={"op_timeout_ms": 5000.0}))
        try:
            return await redis_rows(client, since, quality.store.ttl_days * 86400)
        finally:
            await client.aclose()

    return asyncio.run(read())


def routing_rows(rows: Iterable[dict[str, Any]], counts: ExportCounts) -> Iterator[dict[str, Any]]:
    shadows: dict[str, dict[str, Any]] = {}
    feedback: dict[str, dict[str, Any]] = {}
    for row in rows:
        counts.rows += 1
        target = shadows if row.get("kind") == "shadow" else feedback
        target[str(row["request_id"])] = row  # the latest row per request wins
    counts.feedback_only = sum(1 for request_id in feedback if request_id not in shadows)
    for request_id, shadow in shadows.items():
        if not shadow.get("prompt"):
            counts.without_prompt += 1
            continue
        strong, weak = float(shadow["strong_score"]), float(shadow["weak_score"])
        human = feedback.get(request_id)
        if human is not None:  # a person's score of the answer the client got beats the judge's
            if shadow["routed_tier"] == shadow["strong_tier"]:
                strong = float(human["score"])
            else:
                weak = float(human["score"])
        counts.exported += 1
        yield {
            "id": f"triage-{request_id}",
            "prompt": shadow["prompt"],
            "source": "triage",
            "category": shadow["profile"],
            "strong_model": shadow["strong_model"],
            "weak_model": shadow["weak_model"],
            "strong_score": strong,
            "weak_score": weak,
            "request_id": request_id,
            "profile": shadow["profile"],
            "ts": shadow["ts"],
        }


def chat_rows(rows: Iterable[dict[str, Any]], counts: ExportCounts) -> Iterator[dict[str, Any]]:
    for row in rows:
        counts.rows += 1
        if row.get("kind") != "shadow":
            continue
        answers, messages = row.get("answers") or {}, row.get("messages")
        answer = answers.get(row["strong_tier"])
        if not answer or not messages:
            counts.without_answers += 1
            continue
        counts.exported += 1
        yield {"messages": [*messages, {"role": "assistant", "content": answer}]}
