"""Cache benchmark: hit latency end to end through the gateway, and what a miss adds.

For each backend (a real redis-server, and the embedded LRU) it measures, with
sequential requests on keep-alive connections:
  - ``hit``:  a cached temperature-0 request (non-streaming and streaming to [DONE]);
  - ``miss``: unique temperature-0 prompts (lookup + upstream + store);
  - ``nocache``: the same unique prompts on a gateway with the cache disabled,
so ``miss - nocache`` is what the cache adds to a miss. The simulator answers at once
(TTFT 0), so upstream time is as small as it gets. Gateway pinned to core 0.

    .venv/bin/python benchmarks/cache.py [--requests 300]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from common import RESULTS, percentile, write_result  # type: ignore[import-not-found]

from gateway.local import processes as procs


def _pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


def _config(sim_url: str, redis_url: str | None, enabled: bool) -> dict[str, Any]:
    price = {"input_per_mtok": 0.1, "output_per_mtok": 0.4}
    tier = {"api_base": sim_url, "price": price}
    return {
        "tiers": {"cheap": {"model": "openai/sim-cheap", **tier}, "frontier": {"model": "openai/sim-frontier", **tier}},
        "profiles": {"auto": {"router": "heuristic"}},
        "redis": {"url": redis_url},
        "cache": {"enabled": enabled},
        "log_level": "warning",
        "log_requests": False,
    }


def _timed(client: httpx.Client, url: str, body: dict[str, Any], expect: str | None) -> float:
    started = time.perf_counter()
    if body.get("stream"):
        with client.stream("POST", url, json=body) as response:
            for _ in response.iter_bytes():
                pass
    else:
        response = client.post(url, json=body)
    elapsed = (time.perf_counter() - started) * 1000
    response.raise_for_status()
    if expect is not None and response.headers.get("x-triage-cache") != expect:
        raise RuntimeError(f"expected x-triage-cache {expect}, got {response.headers.get('x-triage-cache')}")
    return elapsed


def _body(text: str, stream: bool = False) -> dict[str, Any]:
    return {"model": "auto", "temperature": 0, "stream": stream, "messages": [{"role": "user", "content": text}]}


def _stats(values: list[float]) -> dict[str, float]:
    return {"p50_ms": statistics.median(values), "p99_ms": percentile(values, 99), "mean_ms": statistics.fmean(values)}


def bench_backend(sim_url: str, redis_url: str | None, requests: int, tmp: Path) -> dict[str, Any]:
    with (
        procs.gateway(_config(sim_url, redis_url, True), tmp, prefix=_pin(0)) as on,
        procs.gateway(_config(sim_url, redis_url, False), tmp, prefix=_pin(0)) as off,
        httpx.Client() as client,
    ):
        on_url, off_url = f"{on}/v1/chat/completions", f"{off}/v1/chat/completions"
        _timed(client, on_url, _body("the cached prompt"), None)
        _timed(client, on_url, _body("the cached prompt", stream=True), "hit")
        for i in range(30):  # warm-up
            _timed(client, on_url, _body("the cached prompt"), "hit")
            _timed(client, off_url, _body(f"warm {i}"), "bypass")
        hit = [_timed(client, on_url, _body("the cached prompt"), "hit") for _ in range(requests)]
        hit_stream = [_timed(client, on_url, _body("the cached prompt", True), "hit") for _ in range(requests)]
        miss, nocache = [], []
        for i in range(requests):
            text = f"unique prompt {i} {time.time_ns()}"
            miss.append(_timed(client, on_url, _body(text), "miss"))
            nocache.append(_timed(client, off_url, _body(text), "bypass"))
    result = {"hit": _stats(hit), "hit_stream": _stats(hit_stream), "miss": _stats(miss), "nocache": _stats(nocache)}
    result["miss_added_p50_ms"] = result["miss"]["p50_ms"] - result["nocache"]["p50_ms"]
    result["hit_speedup_p50"] = result["nocache"]["p50_ms"] / result["hit"]["p50_ms"]
    return {"summary": result, "samples": {"hit": hit, "hit_stream": hit_stream, "miss": miss, "nocache": nocache}}


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(results), figsize=(11, 4), sharey=True)
    for ax, (backend, data) in zip(axes, results.items(), strict=True):
        samples = data["samples"]
        ax.boxplot(
            [samples[k] for k in ("hit", "hit_stream", "miss", "nocache")],
            tick_labels=["hit", "hit (stream)", "miss", "no cache"],
            showfliers=False,
        )
        ax.set_title(f"{backend} backend")
        ax.set_ylabel("latency (ms)")
    fig.suptitle("Triage response cache: end-to-end latency through the gateway")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    results: dict[str, Any] = {}
    sim_args = ["--ttft-ms", "0", "--tokens-per-s", "1000000", "--answer-tokens", "24"]
    with tempfile.TemporaryDirectory() as tmp, procs.simulator(sim_args, prefix=_pin(1)) as sim_url:
        with procs.redis_server(Path(tmp)) as (redis_url, _):
            results["redis"] = bench_backend(sim_url, redis_url, args.requests, Path(tmp))
        results["memory"] = bench_backend(sim_url, None, args.requests, Path(tmp))
    config = {
        "requests": args.requests,
        "simulator": "ttft 0 ms, 24 answer tokens",
        "pinning": "gateway core 0; simulator, redis and client core 1",
        "target": "hit p50 <= 1.5 ms",
    }
    path = write_result("cache", config, results)
    plot(results, RESULTS / "cache.png")
    for backend, data in results.items():
        s = data["summary"]
        print(
            f"{backend:6s} hit p50 {s['hit']['p50_ms']:.2f} p99 {s['hit']['p99_ms']:.2f} | "
            f"hit-stream p50 {s['hit_stream']['p50_ms']:.2f} | miss p50 {s['miss']['p50_ms']:.2f} "
            f"nocache p50 {s['nocache']['p50_ms']:.2f} -> miss adds {s['miss_added_p50_ms']:.2f} ms"
        )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
