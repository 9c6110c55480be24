"""What a ladder costs the request path: a three-rung ladder profile vs a two-tier one, at 200 RPS.

One gateway serves three profiles on the same router (``ensemble``): ``two-tier`` (cheap and
frontier, frontier_share 0.3), ``ladder`` (cheap 0.55 / mid 0.30 / frontier 0.15) and
``sticky`` (the same ladder with ``sticky: {ttl_s: 1800}``, floors in process). A second
gateway on the same config with ``redis.url`` serves ``two-tier`` and ``sticky`` with floors in
a real Redis (one GET and one SET per request). Open-loop load at ``--rps`` on one gateway at a
time, in blocks alternating between the gateways; inside a block the requests go round-robin
to the gateway's profiles, so every profile sees the same load and the same noise. Every 5th
request also goes straight to the simulator. Prompts cycle through routing-dev, each request
its own conversation.

Two overheads per arm, p50 and p99: the client's latency minus the direct latency, and the
gateway's own work per request from its request log (``latency_ms - upstream_ms``: routing,
policy, stores, serialisation; no network). Gateways pinned to core 0, the simulator and this
client to core 1 (redis-server unpinned). Writes ``benchmarks/results/ladder_overhead.json``
and a PNG.

    .venv/bin/python benchmarks/ladder_overhead.py [--rps 200] [--rounds 3] [--block-s 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import yaml
from overhead import _pin  # type: ignore[import-not-found]

from common import RESULTS, ROOT, percentile, write_result  # type: ignore[import-not-found]

from gateway.local import processes as procs

RUNG_MODELS = ("cheap", "mid", "frontier")
LADDER = [{"tier": "cheap", "share": 0.55}, {"tier": "mid", "share": 0.30}, {"tier": "frontier", "share": 0.15}]
GATEWAYS = {"memory": ("two-tier", "ladder", "sticky"), "redis": ("two-tier", "sticky")}  # gateway -> profiles
ARMS = {  # arm -> (gateway, profile)
    "two-tier": ("memory", "two-tier"),
    "ladder": ("memory", "ladder"),
    "ladder+sticky": ("memory", "sticky"),
    "two-tier (redis gateway)": ("redis", "two-tier"),
    "ladder+sticky (redis)": ("redis", "sticky"),
}


def _config(sim_url: str, redis_url: str | None) -> dict[str, Any]:
    price = {"input_per_mtok": 0.1, "output_per_mtok": 0.4}
    tiers = {name: {"model": f"openai/sim-{name}", "api_base": sim_url, "price": price} for name in RUNG_MODELS}
    return {
        "tiers": tiers,
        "profiles": {
            "two-tier": {"router": "ensemble", "frontier_share": 0.3},
            "ladder": {"router": "ensemble", "ladder": LADDER},
            "sticky": {"router": "ensemble", "ladder": LADDER, "sticky": {"ttl_s": 1800}},
        },
        "cache": {"enabled": False},
        "redis": {"url": redis_url},
        "log_level": "warning",
        "log_requests": True,  # the gateway's own time per request comes from its log lines
    }


@contextlib.contextmanager
def _gateway(config: dict[str, Any], directory: Path, log: Path) -> Iterator[str]:
    """A pinned ``triage serve`` whose stdout (the request log) goes to ``log``."""
    port = procs.free_port()
    path = directory / f"triage-{port}.yaml"
    path.write_text(yaml.safe_dump({**config, "listen": {"host": "127.0.0.1", "port": port}}))
    command = [*_pin(0), sys.executable, "-m", "gateway", "serve", "--config", str(path), "--drain-delay-s", "0"]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out)
        try:
            procs.wait_http(f"http://127.0.0.1:{port}/readyz", process)
            yield f"http://127.0.0.1:{port}"
        finally:
            procs.stop(process)


def _prompts() -> list[str]:
    path = ROOT / "routers" / "data" / "routing" / "routing-dev.jsonl"
    return [json.loads(line)["prompt"] for line in path.read_text().split("\n") if line.strip()]


async def _block(
    client: httpx.AsyncClient, url: str, direct: str, profiles: tuple[str, ...], rps: float, seconds: float, offset: int
) -> dict[str, list[float]]:
    """``rps`` for ``seconds`` to one gateway, round-robin over its profiles; latencies by profile, and direct."""
    samples: dict[str, list[float]] = {profile: [] for profile in (*profiles, "direct")}
    prompts = _prompts()

    async def one(target: str, body: dict[str, Any], into: list[float]) -> None:
        started = time.perf_counter()
        response = await client.post(target, json=body)
        response.raise_for_status()
        into.append((time.perf_counter() - started) * 1000)

    tasks = []
    start = time.perf_counter()
    for i in range(int(rps * seconds)):
        delay = start + i / rps - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        n = offset + i
        messages = [{"role": "user", "content": f"{prompts[n % len(prompts)]} (#{n})"}]  # its own conversation
        profile = profiles[i % len(profiles)]
        tasks.append(asyncio.create_task(one(url, {"model": profile, "messages": messages}, samples[profile])))
        if i % 5 == 0:
            body = {"model": "sim-cheap", "messages": messages}
            tasks.append(asyncio.create_task(one(direct, body, samples["direct"])))
    await asyncio.gather(*tasks)
    return samples


async def _drive(urls: dict[str, str], direct: str, rps: float, rounds: int, block_s: float) -> dict[str, Any]:
    samples: dict[str, dict[str, list[float]]] = {arm: {"gateway_ms": [], "direct_ms": []} for arm in ARMS}
    limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
    offset = 0
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        for gateway, profiles in GATEWAYS.items():  # warm-up: connections, the router, the stores
            await _block(client, f"{urls[gateway]}/v1/chat/completions", direct, profiles, rps, 2, offset)
            offset += int(rps * 2)
        measured_from = time.time()
        for _ in range(rounds):
            for gateway, profiles in GATEWAYS.items():
                url = f"{urls[gateway]}/v1/chat/completions"
                got = await _block(client, url, direct, profiles, rps, block_s, offset)
                offset += int(rps * block_s)
                for arm, (arm_gateway, profile) in ARMS.items():
                    if arm_gateway == gateway:
                        samples[arm]["gateway_ms"] += got[profile]
                        samples[arm]["direct_ms"] += got["direct"]
                await asyncio.sleep(0.5)
    return {"samples": samples, "measured_from": measured_from}


def _own_work(log: Path, profile: str, since: float) -> list[float]:
    """``latency_ms - upstream_ms`` of the profile's logged requests from ``since`` on (after the warm-up)."""
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    mine = [r for r in rows if r.get("profile") == profile and r.get("status") == 200 and r["ts"] >= since]
    return [r["latency_ms"] - r["upstream_ms"] for r in mine]


def run(rps: float, rounds: int, block_s: float) -> dict[str, Any]:
    sim_args = ["--ttft-ms", "0", "--tokens-per-s", "1000000", "--answer-tokens", "24"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        logs = {"memory": folder / "memory.log", "redis": folder / "redis.log"}
        with (
            procs.simulator(sim_args, prefix=_pin(1)) as sim_url,
            procs.redis_server(folder) as (redis_url, _),
            _gateway(_config(sim_url, None), folder, logs["memory"]) as memory_url,
            _gateway(_config(sim_url, redis_url), folder, logs["redis"]) as redis_gw_url,
        ):
            urls = {"memory": memory_url, "redis": redis_gw_url}
            driven = asyncio.run(_drive(urls, f"{sim_url}/chat/completions", rps, rounds, block_s))
        samples: dict[str, Any] = driven["samples"]
        for arm, (gateway, profile) in ARMS.items():
            samples[arm]["own_ms"] = _own_work(logs[gateway], profile, driven["measured_from"])
    return samples


def summarise(arm: dict[str, list[float]]) -> dict[str, float]:
    through, direct, own = arm["gateway_ms"], arm["direct_ms"], arm["own_ms"]
    return {
        "requests": len(through),
        "gateway_p50_ms": statistics.median(through),
        "gateway_p99_ms": percentile(through, 99),
        "direct_p50_ms": statistics.median(direct),
        "direct_p99_ms": percentile(direct, 99),
        "overhead_p50_ms": statistics.median(through) - statistics.median(direct),
        "overhead_p99_ms": percentile(through, 99) - percentile(direct, 99),
        "own_work_p50_ms": statistics.median(own),
        "own_work_p99_ms": percentile(own, 99),
    }


def plot(samples: dict[str, dict[str, list[float]]], path: Path, rps: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (client, own) = plt.subplots(1, 2, figsize=(11, 4))
    for arm, data in samples.items():
        for ax, key in ((client, "gateway_ms"), (own, "own_ms")):
            ordered = sorted(data[key])
            ax.plot([100 * i / (len(ordered) - 1) for i in range(len(ordered))], ordered, label=arm)
    direct = sorted(v for data in samples.values() for v in data["direct_ms"])
    client.plot([100 * i / (len(direct) - 1) for i in range(len(direct))], direct, label="direct to the simulator")
    client.set_title(f"Client latency at {rps:g} RPS")
    own.set_title("The gateway's own work per request (log: latency - upstream)")
    for ax in (client, own):
        ax.set_xlabel("percentile")
        ax.set_ylabel("ms")
        ax.set_yscale("log")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rps", type=float, default=200.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--block-s", type=float, default=10.0)
    args = parser.parse_args()
    load_before = os.getloadavg()
    samples = run(args.rps, args.rounds, args.block_s)
    load_after = os.getloadavg()  # other work on the machine shows here (2 cores: above ~2.5 the p99s are noise)
    summary: dict[str, Any] = {arm: summarise(samples[arm]) for arm in ARMS}
    for arm, (gateway, _) in ARMS.items():  # against the two-tier profile on the same gateway, same load
        base = summary["two-tier" if gateway == "memory" else "two-tier (redis gateway)"]
        if summary[arm] is not base:
            for q in ("p50", "p99"):
                summary[arm][f"vs_two_tier_own_{q}_ms"] = summary[arm][f"own_work_{q}_ms"] - base[f"own_work_{q}_ms"]
    config = {
        "rps": args.rps,
        "rounds": args.rounds,
        "block_s": args.block_s,
        "router": "ensemble",
        "arms": {arm: f"{profile} on the {gateway} gateway" for arm, (gateway, profile) in ARMS.items()},
        "order": "blocks alternate between the gateways; inside a block, requests round-robin over its profiles",
        "ladder": LADDER,
        "prompts": "routing-dev, each request its own conversation",
        "simulator": "ttft 0 ms, 24 answer tokens",
        "pinning": "gateways core 0; simulator and client core 1; redis-server unpinned",
    }
    results = {"summary": summary, "load_average_1_5_15": {"before": load_before, "after": load_after}}
    path = write_result("ladder_overhead", config, results)
    plot(samples, RESULTS / "ladder_overhead.png", args.rps)
    for arm, row in summary.items():
        print(f"{arm:24s} " + "  ".join(f"{k}={v:.3f}" for k, v in row.items()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
