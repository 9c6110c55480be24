"""Overhead of /v1/responses and /v1/messages vs /v1/chat/completions, at a fixed request rate.

One gateway (relay transport, heuristic-routed ``auto`` profile) and one simulator; an
open-loop client sends non-streaming requests at ``--rps`` in total, round-robin over
four paths: the simulator's chat endpoint directly, and the gateway's chat, Responses and
Messages endpoints (the same question each time), so machine noise hits every path alike.
A path's overhead is its median latency minus the direct median. The gateway is pinned to
core 0, the simulator and this client to core 1. Writes ``benchmarks/results/endpoints.json``
and a PNG.

    .venv/bin/python benchmarks/endpoints.py [--rps 50] [--seconds 40]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from overhead import _config, _pin  # type: ignore[import-not-found]

from common import RESULTS, percentile, write_result  # type: ignore[import-not-found]

from gateway.local import processes as procs

QUESTION = "Give me three name ideas for a coffee shop."


def _paths(sim_url: str, gw_url: str) -> dict[str, tuple[str, dict[str, Any]]]:
    user = [{"role": "user", "content": QUESTION}]
    return {
        "direct chat": (f"{sim_url}/chat/completions", {"model": "sim-cheap", "messages": user}),
        "chat": (f"{gw_url}/v1/chat/completions", {"model": "auto", "messages": user}),
        "responses": (f"{gw_url}/v1/responses", {"model": "auto", "input": QUESTION}),
        "messages": (f"{gw_url}/v1/messages", {"model": "auto", "max_tokens": 256, "messages": user}),
    }


async def _one(client: httpx.AsyncClient, url: str, body: dict[str, Any], into: list[float]) -> None:
    started = time.perf_counter()
    response = await client.post(url, json=body)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    into.append(elapsed * 1000)


async def _drive(paths: dict[str, tuple[str, dict[str, Any]]], rps: float, seconds: float) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {name: [] for name in paths}
    names = list(paths)
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=200)
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        for name in names * 10:  # warm-up: connections, the router
            await _one(client, *paths[name], [])
        tasks: list[asyncio.Task[None]] = []
        start = time.perf_counter()
        total = int(rps * seconds)
        for i in range(total):
            delay = start + i / rps - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            name = names[i % len(names)]
            tasks.append(asyncio.create_task(_one(client, *paths[name], samples[name])))
        await asyncio.gather(*tasks)
    return samples


def run(rps: float, seconds: float) -> dict[str, list[float]]:
    sim_args = ["--ttft-ms", "0", "--tokens-per-s", "1000000", "--answer-tokens", "24"]
    with (
        procs.simulator(sim_args, prefix=_pin(1)) as sim_url,
        tempfile.TemporaryDirectory() as tmp,
        procs.gateway(_config(sim_url, "relay"), Path(tmp), prefix=_pin(0)) as gw_url,
    ):
        return asyncio.run(_drive(_paths(sim_url, gw_url), rps, seconds))


def summarise(samples: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    direct = statistics.median(samples["direct chat"])
    return {
        name: {
            "requests": len(values),
            "p50_ms": statistics.median(values),
            "p99_ms": percentile(values, 99),
            "overhead_p50_ms": statistics.median(values) - direct,
        }
        for name, values in samples.items()
    }


def plot(samples: dict[str, list[float]], path: Path, rps: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for label, values in samples.items():
        ordered = sorted(values)
        ax.plot([100 * i / (len(ordered) - 1) for i in range(len(ordered))], ordered, label=label)
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (ms)")
    ax.set_title(f"Non-streaming latency by endpoint, {rps:g} RPS in total (round-robin)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rps", type=float, default=50.0)
    parser.add_argument("--seconds", type=float, default=40.0)
    args = parser.parse_args()
    samples = run(args.rps, args.seconds)
    summary = summarise(samples)
    config = {
        "rps_total": args.rps,
        "seconds": args.seconds,
        "order": "round-robin: direct chat, chat, responses, messages",
        "profile": "auto (heuristic router), relay transport, non-streaming",
        "simulator": "ttft 0 ms, 24 answer tokens",
        "pinning": "gateway core 0; simulator+client core 1",
    }
    path = write_result("endpoints", config, {"summary": summary, "samples": samples})
    plot(samples, RESULTS / "endpoints.png", args.rps)
    for name, row in summary.items():
        print(f"{name:12s} " + "  ".join(f"{k}={v:.2f}" for k, v in row.items()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
