"""Does shadowing cost the client anything? Client-visible overhead at 50 RPS, shadowing off vs at rate 1.0.

Two gateways on the same config except the ``quality`` section (off, and shadow rate 1.0
with the simulator's judge), both pinned to core 0, the simulator and this client to
core 1. Open-loop load at a constant rate, in alternating blocks (off, on, off, on, ...),
one gateway at a time, so drift hits both alike and neither slows the other. Every 5th
request also goes straight to the simulator: the overhead is the gateway's latency
minus the direct latency (p50 and p99). With shadowing on, every request triggers one
extra upstream call and two judge calls on the same gateway process, after the answer.

    .venv/bin/python benchmarks/shadow_overhead.py [--rps 50] [--blocks 6] [--block-s 10]
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from common import RESULTS, percentile, write_result  # type: ignore[import-not-found]

from gateway.local import processes as procs

PROMPTS = [
    "Give me three name ideas for a coffee shop.",
    "Prove that there are infinitely many primes.",
    "What is the capital of France?",
    "Explain how a hash map handles collisions.",
]


def _pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


def _config(sim_url: str, folder: Path, shadow: bool) -> dict[str, Any]:
    price = {"input_per_mtok": 0.1, "output_per_mtok": 0.4}
    tier = {"api_base": sim_url, "price": price}
    config: dict[str, Any] = {
        "tiers": {
            "cheap": {"model": "openai/sim-cheap", **tier},
            "frontier": {"model": "openai/sim-frontier", **tier},
            "judge": {"model": "openai/sim-judge", **tier},
        },
        "profiles": {"auto": {"router": "ensemble", "frontier_share": 0.3}},
        "cache": {"enabled": False},
        "log_level": "warning",
        "log_requests": False,
    }
    if shadow:
        config["quality"] = {
            "shadow": {"rate": 1.0, "judge_tier": "judge"},
            "store": {"path": str(folder / "outcomes"), "prompts": True},
        }
    return config


async def _block(
    client: httpx.AsyncClient, gateway: str, direct: str, rps: float, seconds: float
) -> dict[str, list[float]]:
    through: list[float] = []
    baseline: list[float] = []

    async def one(url: str, body: dict[str, Any], into: list[float]) -> None:
        started = time.perf_counter()
        response = await client.post(url, json=body)
        response.raise_for_status()
        into.append((time.perf_counter() - started) * 1000)

    tasks = []
    start = time.perf_counter()
    for i in range(int(rps * seconds)):
        delay = start + i / rps - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        content = PROMPTS[i % len(PROMPTS)]
        tasks.append(
            asyncio.create_task(
                one(gateway, {"model": "auto", "messages": [{"role": "user", "content": content}]}, through)
            )
        )
        if i % 5 == 0:
            tasks.append(
                asyncio.create_task(
                    one(direct, {"model": "sim-cheap", "messages": [{"role": "user", "content": content}]}, baseline)
                )
            )
    await asyncio.gather(*tasks)
    return {"gateway_ms": through, "direct_ms": baseline}


async def _run(rps: float, blocks: int, block_s: float) -> dict[str, dict[str, list[float]]]:
    sim_args = ["--ttft-ms", "0", "--tokens-per-s", "1000000", "--answer-tokens", "24"]
    samples: dict[str, dict[str, list[float]]] = {arm: {"gateway_ms": [], "direct_ms": []} for arm in ("off", "on")}
    with (
        procs.simulator(sim_args, prefix=_pin(1)) as sim_url,
        tempfile.TemporaryDirectory() as tmp,
        procs.gateway(_config(sim_url, Path(tmp), False), Path(tmp), prefix=_pin(0)) as off_url,
        procs.gateway(_config(sim_url, Path(tmp), True), Path(tmp), prefix=_pin(0)) as on_url,
    ):
        direct = f"{sim_url}/chat/completions"
        async with httpx.AsyncClient(timeout=30, limits=httpx.Limits(max_connections=200)) as client:
            for url in (off_url, on_url):  # warm-up: connections, the router
                await _block(client, f"{url}/v1/chat/completions", direct, rps, 2)
            for index in range(blocks):
                arm, url = ("off", off_url) if index % 2 == 0 else ("on", on_url)
                got = await _block(client, f"{url}/v1/chat/completions", direct, rps, block_s)
                samples[arm]["gateway_ms"] += got["gateway_ms"]
                samples[arm]["direct_ms"] += got["direct_ms"]
                await asyncio.sleep(1.0)  # let the shadow queue drain between blocks
            metrics = (await client.get(f"{on_url}/metrics")).text
    judged = sum(
        float(line.rsplit(" ", 1)[1])
        for line in metrics.splitlines()
        if line.startswith("triage_shadow_requests_total{") and 'result="judged"' in line
    )
    samples["on"]["judged"] = [judged]
    return samples


def summarise(arm: dict[str, list[float]]) -> dict[str, float]:
    through, direct = arm["gateway_ms"], arm["direct_ms"]
    return {
        "requests": len(through),
        "gateway_p50_ms": statistics.median(through),
        "gateway_p99_ms": percentile(through, 99),
        "direct_p50_ms": statistics.median(direct),
        "overhead_p50_ms": statistics.median(through) - statistics.median(direct),
        "overhead_p99_ms": percentile(through, 99) - percentile(direct, 99),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rps", type=float, default=50.0)
    parser.add_argument("--blocks", type=int, default=6)
    parser.add_argument("--block-s", type=float, default=10.0)
    args = parser.parse_args()
    samples = asyncio.run(_run(args.rps, args.blocks, args.block_s))
    summary = {arm: summarise(samples[arm]) for arm in ("off", "on")}
    summary["on"]["shadow_judged"] = samples["on"]["judged"][0]
    summary["delta_overhead_p50_ms"] = summary["on"]["overhead_p50_ms"] - summary["off"]["overhead_p50_ms"]  # type: ignore[assignment]
    config = {
        "rps": args.rps,
        "blocks": args.blocks,
        "block_s": args.block_s,
        "router": "ensemble",
        "pinning": "gateways core 0 (one at a time); simulator+client core 1",
        "simulator": "ttft 0 ms, 24 answer tokens; judge sim-judge",
    }
    path = write_result("shadow_overhead", config, {"summary": summary})
    _plot(samples, RESULTS / "shadow_overhead.png")
    print(summary)
    print(f"wrote {path}")


def _plot(samples: dict[str, dict[str, list[float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for arm, label in (("off", "shadowing off"), ("on", "shadowing at rate 1.0")):
        ordered = sorted(samples[arm]["gateway_ms"])
        ax.plot([100 * i / (len(ordered) - 1) for i in range(len(ordered))], ordered, label=label)
    ordered = sorted(samples["off"]["direct_ms"] + samples["on"]["direct_ms"])
    ax.plot([100 * i / (len(ordered) - 1) for i in range(len(ordered))], ordered, label="direct to the simulator")
    ax.set_xlabel("percentile")
    ax.set_ylabel("client latency (ms)")
    ax.set_yscale("log")
    ax.set_title("Client-visible latency at 50 RPS: shadow evaluation off vs on")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
