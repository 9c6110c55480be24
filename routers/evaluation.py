"""Scoring labelled rows with a router and summarising the routing metrics per source."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from routers.base import Conversation, Router
from routers.metrics import evaluate

BATCH = 64


def conversation(row: dict[str, Any]) -> Conversation:
    """A row's conversation: its ``messages``, or its ``prompt`` as one user turn."""
    if "messages" in row:
        messages: Conversation = row["messages"]
        return messages
    return [{"role": "user", "content": str(row["prompt"])}]


async def score_rows(router: Router, rows: Sequence[dict[str, Any]]) -> list[float]:
    scores: list[float] = []
    for start in range(0, len(rows), BATCH):
        batch = [conversation(r) for r in rows[start : start + BATCH]]
        scores += [s.value for s in await router.score_batch(batch)]
    return scores


def score_rows_sync(router: Router, rows: Sequence[dict[str, Any]]) -> list[float]:
    async def _run() -> list[float]:
        try:
            return await score_rows(router, rows)
        finally:
            await router.aclose()

    return asyncio.run(_run())


def metrics_by_source(scores: Sequence[float], rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """``{"all": {...}, "<source>": {...}}`` with n, APGR, CPT(50%), CPT(80%), share for 95% quality."""
    strong = [float(r["strong_score"]) for r in rows]
    weak = [float(r["weak_score"]) for r in rows]
    out = {"all": evaluate(scores, strong, weak).as_dict()}
    for source in sorted({str(r.get("source", "")) for r in rows}):
        idx = [i for i, r in enumerate(rows) if str(r.get("source", "")) == source]
        out[source] = evaluate([scores[i] for i in idx], [strong[i] for i in idx], [weak[i] for i in idx]).as_dict()
    return out
