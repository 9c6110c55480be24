"""Router latency: p50/p99 at batch 1, throughput at batch 32, and 64 concurrent requests.

For each router: (1) ``score`` on one 100-word prompt, repeated (p50/p99 per call), and
``score`` on real dev prompts one at a time (mixed lengths);
(2) ``score_batch`` on batches of 32 dev prompts (prompts per second); (3) 64 concurrent
single ``score`` calls, repeated in waves, which for ``embedding`` go through its
micro-batcher (prompts per second and per-request p50/p99). Writes
``benchmarks/results/router_latency.json`` and ``router_latency.png``.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/router_latency.py [--routers ngram,embedding] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any

from common import RESULTS, percentile, write_result  # type: ignore[import-not-found]

from routers.base import Router
from routers.registry import DEFAULT_ROUTER, ROUTING_DEV, build_router

ALL = ("random", "heuristic", "ngram", "static", "ensemble", "embedding")
DEV = ROUTING_DEV
_TEXT = (
    "A company is deciding whether to move its billing service from a monolith to separate services. "
    "The team has eight engineers, a release every two weeks and a database that is shared with the "
    "reporting jobs. Customers complain that invoices are sometimes late by a day, and the finance team "
    "wants real-time revenue numbers. Explain the main risks of the migration, propose an order of steps "
    "that keeps invoices correct during the change, and say which metrics would show that the new design "
    "works better. Keep the answer practical, mention data consistency and testing, and estimate roughly "
    "how long each step would take for this team."
)
PROMPT_100_WORDS = " ".join(_TEXT.split()[:100])


def conversations(n: int) -> list[list[dict[str, str]]]:
    if DEV.exists():
        rows = [json.loads(line) for line in DEV.read_text().splitlines()[:n]]
        return [[{"role": "user", "content": r["prompt"]}] for r in rows]
    return [[{"role": "user", "content": PROMPT_100_WORDS}]] * n


async def batch1(router: Router, repeats: int) -> dict[str, float]:
    messages = [{"role": "user", "content": PROMPT_100_WORDS}]
    for _ in range(10):
        await router.score(messages)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        await router.score(messages)
        times.append(time.perf_counter() - start)
    return {"p50_ms": percentile(times, 50) * 1e3, "p99_ms": percentile(times, 99) * 1e3, "calls": repeats}


async def batch1_dev(router: Router, count: int) -> dict[str, float]:
    """Batch 1 over real prompts of mixed length (dev median ~68 MiniLM tokens)."""
    convs = conversations(count)
    times = []
    for conv in convs:
        start = time.perf_counter()
        await router.score(conv)
        times.append(time.perf_counter() - start)
    return {"p50_ms": percentile(times, 50) * 1e3, "p99_ms": percentile(times, 99) * 1e3, "calls": count}


async def batch32(router: Router, batches: int) -> dict[str, float]:
    convs = conversations(32 * batches)
    await router.score_batch(convs[:32])
    start = time.perf_counter()
    for i in range(batches):
        await router.score_batch(convs[32 * i : 32 * (i + 1)])
    elapsed = time.perf_counter() - start
    return {"prompts_per_s": 32 * batches / elapsed, "batch_ms": elapsed / batches * 1e3}


async def concurrent64(router: Router, waves: int) -> dict[str, float]:
    convs = conversations(64)
    latencies: list[float] = []

    async def one(conv: list[dict[str, str]]) -> None:
        start = time.perf_counter()
        await router.score(conv)
        latencies.append(time.perf_counter() - start)

    await asyncio.gather(*(one(c) for c in convs))
    latencies.clear()
    start = time.perf_counter()
    for _ in range(waves):
        await asyncio.gather(*(one(c) for c in convs))
    elapsed = time.perf_counter() - start
    return {
        "prompts_per_s": 64 * waves / elapsed,
        "p50_ms": percentile(latencies, 50) * 1e3,
        "p99_ms": percentile(latencies, 99) * 1e3,
    }


async def measure(name: str, quick: bool) -> dict[str, Any]:
    heavy = name == "embedding"
    router = build_router(name)
    try:
        return {
            "batch1": await batch1(router, 100 if heavy or quick else 1000),
            "batch1_dev_prompts": await batch1_dev(router, 200 if heavy or quick else 1000),
            "batch32": await batch32(router, 10 if heavy or quick else 30),
            "concurrent64": await concurrent64(router, 5 if heavy or quick else 20),
        }
    finally:
        await router.aclose()


def plot(results: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=110)
    xs = range(len(names))
    left.bar([x - 0.2 for x in xs], [results[n]["batch1"]["p50_ms"] for n in names], 0.4, label="p50")
    left.bar([x + 0.2 for x in xs], [results[n]["batch1"]["p99_ms"] for n in names], 0.4, label="p99")
    left.axhline(1.0, color="grey", ls=":", lw=1, label="1 ms (default-router budget)")
    left.axhline(10.0, color="grey", ls="--", lw=1, label="10 ms (embedding budget)")
    left.set_yscale("log")
    left.set_ylabel("ms per call (batch 1, 100-word prompt)")
    right.bar([x - 0.2 for x in xs], [results[n]["batch32"]["prompts_per_s"] for n in names], 0.4, label="batch 32")
    right.bar(
        [x + 0.2 for x in xs], [results[n]["concurrent64"]["prompts_per_s"] for n in names], 0.4, label="64 concurrent"
    )
    right.set_yscale("log")
    right.set_ylabel("prompts per second")
    for ax in (left, right):
        ax.set_xticks(list(xs), names, rotation=20)
        ax.legend(fontsize=8)
        ax.grid(alpha=0.3, axis="y")
    fig.suptitle("Router latency and throughput (one process, CPU)")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--routers", default=",".join(ALL))
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    names = [n for n in args.routers.split(",") if n]
    load_before = os.getloadavg()
    results = {}
    for name in names:
        results[name] = asyncio.run(measure(name, args.quick))
        b1, dev, b32, c64 = (results[name][k] for k in ("batch1", "batch1_dev_prompts", "batch32", "concurrent64"))
        print(
            f"{name:<10} batch1 p50 {b1['p50_ms']:.3f} ms p99 {b1['p99_ms']:.3f} ms "
            f"(dev prompts p50 {dev['p50_ms']:.3f} ms) | batch32 "
            f"{b32['prompts_per_s']:.0f}/s | 64 concurrent {c64['prompts_per_s']:.0f}/s (p50 {c64['p50_ms']:.1f} ms)"
        )
    config = {
        "routers": names,
        "prompt_words": len(PROMPT_100_WORDS.split()),
        "default_router": DEFAULT_ROUTER,
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "quick": args.quick,
        "load_average_1m_before_after": [round(load_before[0], 2), round(os.getloadavg()[0], 2)],
        "onnxruntime_threads": 1,
        "batch_prompts": "first rows of routing-dev.jsonl" if DEV.exists() else "the 100-word prompt",
    }
    path = write_result("router_latency", config, results)
    plot(results, RESULTS / "router_latency.png")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
