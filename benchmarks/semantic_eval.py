"""The semantic cache's quality on the labelled pairs and on a replayed workload (used by semantic_cache.py).

A pair is a *hit* when both prompts fit the encoder, their cosine similarity reaches the
threshold and (with guards) every exactness guard passes: the rule ``gateway.cache.semantic``
applies. Precision on hard negatives = true hits / (true hits + hits on hard-negative pairs);
recall = true hits / paraphrase pairs.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from typing import Any

import numpy as np

from common import ROOT  # type: ignore[import-not-found]

from gateway.cache.guards import facts, mismatch
from routers.vectors import PromptEncoder

DATA = ROOT / "benchmarks" / "data" / "semantic_cache"
THRESHOLDS = (0.8, 0.85, 0.88, 0.9, 0.93, 0.95)


def load_pairs() -> list[dict[str, Any]]:
    return [json.loads(line) for line in (DATA / "pairs.jsonl").read_text().splitlines() if line.strip()]


def pair_scores(encoder: PromptEncoder, pairs: list[dict[str, Any]]) -> dict[str, Any]:
    texts = sorted({p["a"] for p in pairs} | {p["b"] for p in pairs})
    vectors = dict(zip(texts, encoder.encode(texts), strict=True))
    fits = {t: encoder.fits(t) for t in texts}
    facts_of = {t: facts(t) for t in texts}
    similarity = np.array([float(vectors[p["a"]] @ vectors[p["b"]]) for p in pairs])
    usable = np.array([fits[p["a"]] and fits[p["b"]] for p in pairs])
    guarded = np.array([mismatch(facts_of[p["a"]], facts_of[p["b"]]) is None for p in pairs])
    return {"similarity": similarity, "usable": usable, "guarded": guarded}


def evaluate(pairs: list[dict[str, Any]], scores: dict[str, Any], threshold: float, guards: bool) -> dict[str, Any]:
    same = np.array([p["same"] for p in pairs])
    kinds = np.array([p["kind"] for p in pairs])
    hard = ~same & (kinds != "unrelated")
    hit = scores["usable"] & (scores["similarity"] >= threshold)
    if guards:
        hit &= scores["guarded"]
    true_hits, hard_hits = int((hit & same).sum()), int((hit & hard).sum())
    per_kind = {
        str(kind): {"pairs": int((kinds == kind).sum()), "hits": int((hit & (kinds == kind)).sum())}
        for kind in sorted(set(kinds.tolist()))
    }
    return {
        "threshold": threshold,
        "guards": guards,
        "precision_hard": true_hits / max(true_hits + hard_hits, 1),
        "recall_paraphrase": true_hits / int(same.sum()),
        "true_hits": true_hits,
        "hard_negative_hits": hard_hits,
        "hard_negatives": int(hard.sum()),
        "unrelated_hits": int((hit & (kinds == "unrelated")).sum()),
        "per_kind": per_kind,
        "wrong_hit_examples": [
            {"a": p["a"], "b": p["b"], "kind": p["kind"], "similarity": round(float(s), 4)}
            for p, s, h in zip(pairs, scores["similarity"], hit & ~same, strict=True)
            if h
        ][:10],
    }


def intents() -> list[tuple[str, list[str]]]:
    """Every question with its wordings: the hand groups and each family value."""
    found = []
    for line in (DATA / "groups.jsonl").read_text().splitlines():
        if line.strip():
            group = json.loads(line)
            found.append((group["group"], group["texts"]))
    for family in json.loads((DATA / "families.json").read_text()):
        for value in family["values"]:
            found.append((f"{family['family']}:{'/'.join(value)}", [v.format(*value) for v in family["variants"]]))
    return found


def workload(requests: int, seed: int = 7, zipf_s: float = 1.1) -> list[tuple[str, str]]:
    """``(intent, text)`` requests: intents by Zipf popularity, a uniformly chosen wording each."""
    rng = random.Random(seed)
    pool = intents()
    rng.shuffle(pool)
    weights = [1 / (rank + 1) ** zipf_s for rank in range(len(pool))]
    chosen = rng.choices(pool, weights=weights, k=requests)
    return [(name, rng.choice(texts)) for name, texts in chosen]


def replay_summary(outcomes: list[tuple[str, str, str, str | None]]) -> dict[str, Any]:
    """Outcomes are (intent asked, wording, cache status, intent of the answer served or None)."""
    statuses = Counter(status for _, _, status, _ in outcomes)
    wrong = [(asked, served) for asked, _, status, served in outcomes if status == "semantic_hit" and served != asked]
    total = len(outcomes)
    intents_asked = len({asked for asked, _, _, _ in outcomes})
    wordings_asked = len({text for _, text, _, _ in outcomes})
    return {
        "requests": total,
        "distinct_intents": intents_asked,
        "distinct_wordings": wordings_asked,
        "exact_hits": statuses["hit"],
        "semantic_hits": statuses["semantic_hit"],
        "misses": statuses["miss"],
        "hit_rate": (statuses["hit"] + statuses["semantic_hit"]) / total,
        "exact_only_hit_rate": (total - wordings_asked) / total,  # the exact cache alone: every repeated wording
        "ceiling_hit_rate": (total - intents_asked) / total,  # every repeat of an intent answered from the cache
        # of the hits the exact cache alone leaves to the ceiling, the share the semantic cache adds
        "gap_closed": (statuses["hit"] + statuses["semantic_hit"] - total + wordings_asked)
        / max(wordings_asked - intents_asked, 1),
        "wrong_semantic_hits": len(wrong),
        "wrong_examples": wrong[:10],
    }
