"""Semantic cache benchmark: wrong hits, paraphrase recall, workload hit rate, lookup latency with Redis.

1. **Pairs** (``benchmarks/data/semantic_cache/pairs.jsonl``, see its ``CARD.md``): for each
   encoder (``embedding``: all-MiniLM-L6-v2 ONNX int8; ``static``: the default router's static
   token table) and threshold, the precision of hits on the hard negatives and the recall on
   paraphrases, with and without the exactness guards.
2. **Workload**: requests over the evaluation's questions with Zipf popularity, each in one of
   its four wordings at random, replayed through ``ResponseCache`` on a real redis-server with
   the default semantic settings: exact hits, semantic hits, misses, wrong semantic hits (an
   answer to another question), against the exact cache alone and the ceiling (every repeat).
3. **Latency** (real redis-server, in process, one request at a time): ``plan`` + ``lookup`` for an
   exact hit, a semantic hit, a miss with the semantic cache on and a miss on a profile without
   it (their difference is what the semantic cache adds to a miss); the index's search time with
   1k, 10k and 50k entries in one bucket; one prompt's embedding per encoder.

    .venv/bin/python benchmarks/semantic_cache.py [--requests 2000] [--samples 300]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from semantic_eval import (  # type: ignore[import-not-found]
    THRESHOLDS,
    evaluate,
    intents,
    load_pairs,
    pair_scores,
    replay_summary,
    workload,
)

from common import RESULTS, percentile, write_result  # type: ignore[import-not-found]

from gateway.cache.guards import facts
from gateway.cache.policy import CacheControl, ResponseCache
from gateway.cache.semantic import SemanticCache
from gateway.cache.semantic_index import SemanticIndex
from gateway.cache.semantic_log import SemanticLog
from gateway.cache.store import RedisCache
from gateway.local import processes as procs
from gateway.protocol.schemas import ChatCompletionRequest
from gateway.settings import CacheSettings, Profile, RedisSettings
from gateway.state.redis import RedisGuard, build_redis
from routers.vectors import ENCODERS, PromptEncoder, load_prompt_encoder

DEFAULT = ("embedding", 0.93)


def stats(values: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(values), "p99_ms": percentile(values, 99), "mean_ms": statistics.fmean(values)}


class Harness:
    """A ``ResponseCache`` with the semantic cache on a real Redis, as the gateway builds it."""

    def __init__(self, guard: RedisGuard, encoders: dict[str, PromptEncoder], memo: int) -> None:
        semantic_options = {"semantic": {"enabled": True, "encoder": DEFAULT[0], "threshold": DEFAULT[1]}}
        profiles = {"faq": Profile(router="heuristic", cache=semantic_options), "plain": Profile(router="heuristic")}
        semantic = SemanticCache(encoders, SemanticIndex(50_000), SemanticLog(guard, 50_000), memo=memo)
        self.cache = ResponseCache(RedisCache(guard), CacheSettings(), profiles, semantic)

    def plan(self, text: str, model: str = "faq") -> Any:
        body = {"model": model, "temperature": 0, "messages": [{"role": "user", "content": text}]}
        return self.cache.plan(ChatCompletionRequest.model_validate(body), body, "bench", CacheControl())

    async def ask(self, text: str, intent: str, model: str = "faq") -> tuple[str, str | None]:
        """Look up; on a miss store an answer naming ``intent``. Returns the status and the intent served."""
        plan = self.plan(text, model)
        entry, status = await self.cache.lookup(plan)
        if entry is not None:
            return status, str(entry.body["id"])
        body = {"id": intent, "object": "chat.completion", "created": 0, "model": "m", "choices": []}
        await self.cache.save(plan, body, "cheap", "m", 0.001)
        return status, None

    async def timed(self, text: str, model: str = "faq") -> tuple[float, str]:
        started = time.perf_counter()
        _, status = await self.cache.lookup(self.plan(text, model))
        return (time.perf_counter() - started) * 1000, status


async def replay(guard: RedisGuard, encoders: dict[str, PromptEncoder], requests: int) -> dict[str, Any]:
    await guard.client.flushdb()
    harness = Harness(guard, encoders, memo=512)
    outcomes = []
    for intent, text in workload(requests):
        status, served = await harness.ask(text, intent)
        outcomes.append((intent, text, status, served))
    return replay_summary(outcomes)


async def latency(guard: RedisGuard, encoders: dict[str, PromptEncoder], samples: int) -> dict[str, Any]:
    await guard.client.flushdb()
    harness = Harness(guard, encoders, memo=0)
    pool = intents()
    for name, texts in pool:
        await harness.ask(texts[0], name)
    semantic = [t for _, texts in pool for t in texts[1:] if (await harness.timed(t))[1] == "semantic_hit"]
    exact = [texts[0] for _, texts in pool]
    misses = [p["b"] for p in load_pairs() if p["kind"] in ("topic", "unrelated", "negation")]
    misses = [t for t in dict.fromkeys(misses) if (await harness.timed(t))[1] == "miss"]
    kinds = {"exact_hit": (exact, "faq"), "semantic_hit": (semantic, "faq"), "miss_semantic_on": (misses, "faq")}
    kinds["miss_exact_only"] = (misses, "plain")
    samples_ms: dict[str, list[float]] = {}
    for kind, (texts, model) in kinds.items():
        for _ in range(20):  # warm-up
            await harness.timed(texts[0], model)
        samples_ms[kind] = [(await harness.timed(texts[i % len(texts)], model))[0] for i in range(samples)]
    summary: dict[str, Any] = {kind: stats(values) for kind, values in samples_ms.items()}
    summary["miss_added_p50_ms"] = summary["miss_semantic_on"]["p50_ms"] - summary["miss_exact_only"]["p50_ms"]
    return {"summary": summary, "samples": samples_ms, "semantic_hit_texts": len(semantic)}


def index_scaling(dims: int, sizes: tuple[int, ...] = (1_000, 10_000, 50_000)) -> dict[str, Any]:
    rng = np.random.default_rng(0)
    fact = facts("q")
    out: dict[str, Any] = {}
    for size in sizes:
        index = SemanticIndex(size)
        vectors = rng.normal(size=(size, dims)).astype(np.float32)
        vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
        for i, vector in enumerate(vectors):
            index.add("bucket", f"k{i}", vector, fact, time.time() + 3600)
        queries = vectors[rng.integers(0, size, 200)]
        times = []
        for query in queries:
            started = time.perf_counter()
            index.search("bucket", query, 0.93)
            times.append((time.perf_counter() - started) * 1000)
        out[str(size)] = stats(times)
    return out


def encode_latency(encoders: dict[str, PromptEncoder], texts: list[str]) -> dict[str, Any]:
    out = {}
    for name, encoder in encoders.items():
        encoder.encode(texts[:5])
        times = []
        for text in texts[:300]:
            started = time.perf_counter()
            encoder.encode([text])
            times.append((time.perf_counter() - started) * 1000)
        out[name] = stats(times)
    return out


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (curves, boxes, scaling) = plt.subplots(1, 3, figsize=(15, 4.5))
    for name, rows in results["pairs"].items():
        for guards, style in ((True, "-o"), (False, ":x")):
            picked = [r for r in rows if r["guards"] is guards]
            label = f"{name}, {'guards' if guards else 'similarity only'}"
            curves.plot(
                [r["recall_paraphrase"] for r in picked], [r["precision_hard"] for r in picked], style, label=label
            )
            default = [r for r in picked if r["threshold"] == DEFAULT[1]]
            curves.annotate("0.93", (default[0]["recall_paraphrase"], default[0]["precision_hard"]), fontsize=8)
    curves.axhline(0.995, color="grey", lw=0.8, ls="--")
    curves.set(
        xlabel="recall on paraphrases", ylabel="precision of hits (hard negatives)", title="thresholds 0.80-0.95"
    )
    curves.legend(fontsize=7)
    samples = results["latency"]["samples"]
    boxes.boxplot(list(samples.values()), tick_labels=[k.replace("_", "\n") for k in samples], showfliers=False)
    boxes.set(ylabel="plan + lookup (ms)", title="lookup latency, real Redis")
    sizes = sorted(results["index_scaling"], key=int)
    for q in ("p50_ms", "p99_ms"):
        scaling.plot([int(s) for s in sizes], [results["index_scaling"][s][q] for s in sizes], "-o", label=q)
    scaling.set(xscale="log", xlabel="entries in the bucket", ylabel="search (ms)", title="in-process index search")
    scaling.legend()
    fig.suptitle("Triage semantic cache")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    encoders = {name: load_prompt_encoder(name) for name in ENCODERS}
    pairs = load_pairs()
    results: dict[str, Any] = {"pairs": {}}
    for name, encoder in encoders.items():
        scores = pair_scores(encoder, pairs)
        results["pairs"][name] = [evaluate(pairs, scores, t, g) for t in THRESHOLDS for g in (True, False)]
    texts = sorted({p["a"] for p in pairs})
    results["encode"] = encode_latency(encoders, texts)
    results["index_scaling"] = index_scaling(dims=len(encoders[DEFAULT[0]].encode(["x"])[0]))
    with tempfile.TemporaryDirectory() as tmp, procs.redis_server(Path(tmp)) as (redis_url, _):
        settings = RedisSettings(url=redis_url)
        guard = RedisGuard(build_redis(settings), settings)
        try:
            results["workload"] = await replay(guard, {DEFAULT[0]: encoders[DEFAULT[0]]}, args.requests)
            results["latency"] = await latency(guard, {DEFAULT[0]: encoders[DEFAULT[0]]}, args.samples)
        finally:
            await guard.aclose()
    return results


def report(results: dict[str, Any]) -> None:
    for name, rows in results["pairs"].items():
        for row in rows:
            if row["guards"] or row["threshold"] == DEFAULT[1]:
                print(
                    f"{name:9s} t={row['threshold']:.2f} guards={'on ' if row['guards'] else 'off'} "
                    f"precision(hard) {row['precision_hard']:.4f} recall {row['recall_paraphrase']:.3f} "
                    f"hard-negative hits {row['hard_negative_hits']}/{row['hard_negatives']}"
                )
    w = results["workload"]
    print(
        f"workload {w['requests']} requests: hit rate {w['hit_rate']:.3f} (exact only {w['exact_only_hit_rate']:.3f}, "
        f"ceiling {w['ceiling_hit_rate']:.3f}), wrong semantic hits {w['wrong_semantic_hits']}"
    )
    for kind, s in results["latency"]["summary"].items():
        if isinstance(s, dict):
            print(f"latency {kind:18s} p50 {s['p50_ms']:.3f} ms p99 {s['p99_ms']:.3f} ms")
    print(f"a miss with the semantic cache on costs +{results['latency']['summary']['miss_added_p50_ms']:.3f} ms (p50)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    results = asyncio.run(run(args))
    config = {
        "requests": args.requests,
        "samples": args.samples,
        "default": {"encoder": DEFAULT[0], "threshold": DEFAULT[1]},
        "thresholds": list(THRESHOLDS),
        "pairs": len(load_pairs()),
        "workload": "Zipf s=1.1 over the evaluation's questions (hand groups and family values), 4 wordings each",
        "latency": "in process, sequential, real redis-server on loopback; ResponseCache.plan + lookup",
    }
    path = write_result("semantic_cache", config, results)
    plot(results, RESULTS / "semantic_cache.png")
    report(results)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
