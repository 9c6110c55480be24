"""Scoring labelled rows with a router and summarising the results.

Two kinds of labelled rows: outcome rows (``strong_score``/``weak_score``; APGR and CPT per
``source``, ``metrics_by_source``) and everyday rows (a binary ``label`` and ``p_hard`` per
prompt; ranking AUC and mean scores overall and per ``kind``, ``everyday_report``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from routers.base import Conversation, Router, RouterScore
from routers.metrics import evaluate, roc_auc

BATCH = 64


def conversation(row: dict[str, Any]) -> Conversation:
    """A row's conversation: its ``messages``, or its ``prompt`` as one user turn."""
    if "messages" in row:
        messages: Conversation = row["messages"]
        return messages
    return [{"role": "user", "content": str(row["prompt"])}]


async def score_rows_full(router: Router, rows: Sequence[dict[str, Any]]) -> list[RouterScore]:
    scores: list[RouterScore] = []
    for start in range(0, len(rows), BATCH):
        scores += await router.score_batch([conversation(r) for r in rows[start : start + BATCH]])
    return scores


async def score_rows(router: Router, rows: Sequence[dict[str, Any]]) -> list[float]:
    return [s.value for s in await score_rows_full(router, rows)]


def score_rows_full_sync(router: Router, rows: Sequence[dict[str, Any]]) -> list[RouterScore]:
    """Every row's ``RouterScore`` (value and out-of-distribution flag); closes the router."""

    async def _run() -> list[RouterScore]:
        try:
            return await score_rows_full(router, rows)
        finally:
            await router.aclose()

    return asyncio.run(_run())


def score_rows_sync(router: Router, rows: Sequence[dict[str, Any]]) -> list[float]:
    return [s.value for s in score_rows_full_sync(router, rows)]


def metrics_by_source(scores: Sequence[float], rows: Sequence[dict[str, Any]]) -> dict[str, dict[str, float]]:
    """``{"all": {...}, "<source>": {...}}`` with n, APGR, CPT(50%), CPT(80%), share for 95% quality."""
    strong = [float(r["strong_score"]) for r in rows]
    weak = [float(r["weak_score"]) for r in rows]
    out = {"all": evaluate(scores, strong, weak).as_dict()}
    for source in sorted({str(r.get("source", "")) for r in rows}):
        idx = [i for i, r in enumerate(rows) if str(r.get("source", "")) == source]
        out[source] = evaluate([scores[i] for i in idx], [strong[i] for i in idx], [weak[i] for i in idx]).as_dict()
    return out


def _summary(values: Sequence[float], labels: Sequence[int]) -> dict[str, float]:
    easy = [v for v, y in zip(values, labels, strict=True) if y == 0]
    hard = [v for v, y in zip(values, labels, strict=True) if y == 1]
    return {
        "n": len(values),
        "auc": roc_auc(values, labels),
        "mean_easy": sum(easy) / len(easy) if easy else float("nan"),
        "mean_hard": sum(hard) / len(hard) if hard else float("nan"),
    }


def everyday_report(scores: Sequence[RouterScore], rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Ranking AUC (label vs score; NaN where one label is missing), mean score of easy and of hard
    prompts and the share flagged out of distribution, overall and per task ``kind``."""
    values = [s.value for s in scores]
    labels = [int(r["label"]) for r in rows]
    out: dict[str, Any] = _summary(values, labels)
    out["ood_share"] = ood_share(scores)
    kinds: dict[str, dict[str, float]] = {}
    for kind in sorted({str(r.get("kind", "")) for r in rows}):
        idx = [i for i, r in enumerate(rows) if str(r.get("kind", "")) == kind]
        kinds[kind] = _summary([values[i] for i in idx], [labels[i] for i in idx])
    out["kinds"] = kinds
    return out


def ood_share(scores: Sequence[RouterScore]) -> float:
    return sum(s.ood for s in scores) / max(len(scores), 1)
