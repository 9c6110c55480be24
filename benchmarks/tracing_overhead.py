"""What does tracing cost a client? Latency at 200 RPS, tracing off vs on (every request sampled).

Two gateways on the same config except the ``tracing`` section (absent, and exporting
every request's spans to an OTLP/HTTP receiver: ``gateway.local.otlp_receiver``, a
separate process that decodes each export). Both gateways are pinned to core 0, the
simulator, the receiver and this client to core 1. Open-loop load at a constant rate, in
alternating blocks (off, on, off, on, ...), one gateway at a time, so drift hits both
alike. Every 5th request also goes straight to the simulator: the overhead is the
gateway's latency minus the direct latency (p50 and p99), and tracing's cost is the
difference between the two arms; so is the gateway's CPU time per request (read from
``/proc``, so it holds even when a busy machine inflates the latencies). Writes ``benchmarks/results/tracing_overhead.{json,png}``.

    .venv/bin/python benchmarks/tracing_overhead.py [--rps 200] [--blocks 4] [--block-s 10]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
from shadow_overhead import PROMPTS, _block, _pin  # type: ignore[import-not-found]

from common import RESULTS, ROOT, percentile, write_result  # type: ignore[import-not-found]

from gateway.local import processes as procs


def _config(sim_url: str, otlp_url: str | None) -> dict[str, Any]:
    price = {"input_per_mtok": 0.1, "output_per_mtok": 0.4}
    tier = {"api_base": sim_url, "price": price}
    config: dict[str, Any] = {
        "tiers": {"cheap": {"model": "openai/sim-cheap", **tier}, "frontier": {"model": "openai/sim-frontier", **tier}},
        "profiles": {"auto": {"router": "ensemble", "frontier_share": 0.3}},
        "cache": {"enabled": False},
        "log_level": "warning",
        "log_requests": False,
    }
    if otlp_url is not None:
        config["tracing"] = {"otlp_endpoint": otlp_url, "sample_ratio": 1.0}  # default batches: 100 ms, 128 spans
    return config


def _cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a process's threads have used so far (Linux)."""
    total = 0
    for task in os.listdir(f"/proc/{pid}/task"):
        fields = Path(f"/proc/{pid}/task/{task}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


@contextlib.contextmanager
def _receiver() -> Iterator[tuple[str, subprocess.Popen[str]]]:
    command = [*_pin(1), sys.executable, "-m", "gateway.local.otlp_receiver"]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        yield process.stdout.readline().strip(), process
    finally:
        process.terminate()
        process.wait(10)


async def _run(rps: float, blocks: int, block_s: float) -> tuple[dict[str, dict[str, list[float]]], str]:
    sim_args = ["--ttft-ms", "0", "--tokens-per-s", "1000000", "--answer-tokens", "24"]
    samples: dict[str, dict[str, list[float]]] = {
        arm: {"gateway_ms": [], "direct_ms": [], "cpu_ms_per_request": []} for arm in ("off", "on")
    }
    with (
        procs.simulator(sim_args, prefix=_pin(1)) as sim_url,
        _receiver() as (otlp_url, receiver),
        tempfile.TemporaryDirectory() as tmp,
        procs.gateway_process(_config(sim_url, None), Path(tmp), prefix=_pin(0)) as (off_url, off),
        procs.gateway_process(_config(sim_url, otlp_url), Path(tmp), prefix=_pin(0)) as (on_url, on),
    ):
        pids = {"off": off.pid, "on": on.pid}
        blocks_seen: list[dict[str, Any]] = []
        direct = f"{sim_url}/chat/completions"
        limits = httpx.Limits(max_connections=400, max_keepalive_connections=400)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            for url in (off_url, on_url):  # warm-up: connections, the router
                await _block(client, f"{url}/v1/chat/completions", direct, rps, 2)
            for index in range(blocks):
                arm, url = ("off", off_url) if index % 2 == 0 else ("on", on_url)
                used = _cpu_s(pids[arm])
                got = await _block(client, f"{url}/v1/chat/completions", direct, rps, block_s)
                used = _cpu_s(pids[arm]) - used
                samples[arm]["cpu_ms_per_request"].append(1000 * used / len(got["gateway_ms"]))
                blocks_seen.append(
                    {
                        "arm": arm,
                        "gateway_p99_ms": percentile(got["gateway_ms"], 99),
                        "direct_p99_ms": percentile(got["direct_ms"], 99),
                    }
                )
                samples[arm]["gateway_ms"] += got["gateway_ms"]
                samples[arm]["direct_ms"] += got["direct_ms"]
                await asyncio.sleep(2.0)  # the last batch exported before the next block
        assert receiver.stdout is not None
    receiver.wait(10)
    lines = receiver.stdout.read().strip().splitlines() if receiver.stdout else []
    print("per block:", blocks_seen)
    return samples, lines[-1] if lines else "no report"


def summarise(arm: dict[str, list[float]]) -> dict[str, float]:
    through, direct = arm["gateway_ms"], arm["direct_ms"]
    return {
        "requests": len(through),
        "gateway_p50_ms": statistics.median(through),
        "gateway_p99_ms": percentile(through, 99),
        "direct_p50_ms": statistics.median(direct),
        "direct_p99_ms": percentile(direct, 99),
        "overhead_p50_ms": statistics.median(through) - statistics.median(direct),
        "overhead_p99_ms": percentile(through, 99) - percentile(direct, 99),
        "gateway_cpu_ms_per_request": statistics.median(arm["cpu_ms_per_request"]),  # median over blocks
    }


def _plot(samples: dict[str, dict[str, list[float]]], path: Path, rps: float) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    for arm, label in (("off", "tracing off"), ("on", "tracing on (every request)")):
        ordered = sorted(samples[arm]["gateway_ms"])
        ax.plot([100 * i / (len(ordered) - 1) for i in range(len(ordered))], ordered, label=label)
    ordered = sorted(samples["off"]["direct_ms"] + samples["on"]["direct_ms"])
    ax.plot([100 * i / (len(ordered) - 1) for i in range(len(ordered))], ordered, label="direct to the simulator")
    ax.set_xlabel("percentile")
    ax.set_ylabel("client latency (ms)")
    ax.set_yscale("log")
    ax.set_title(f"Client-visible latency at {rps:g} RPS: tracing off vs on")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rps", type=float, default=200.0)
    parser.add_argument("--blocks", type=int, default=4)
    parser.add_argument("--block-s", type=float, default=10.0)
    args = parser.parse_args()
    samples, received = asyncio.run(_run(args.rps, args.blocks, args.block_s))
    summary: dict[str, Any] = {arm: summarise(samples[arm]) for arm in ("off", "on")}
    summary["delta_overhead_p50_ms"] = summary["on"]["overhead_p50_ms"] - summary["off"]["overhead_p50_ms"]
    summary["delta_overhead_p99_ms"] = summary["on"]["overhead_p99_ms"] - summary["off"]["overhead_p99_ms"]
    summary["delta_cpu_ms_per_request"] = (
        summary["on"]["gateway_cpu_ms_per_request"] - summary["off"]["gateway_cpu_ms_per_request"]
    )
    summary["receiver"] = received
    config = {
        "rps": args.rps,
        "blocks": args.blocks,
        "block_s": args.block_s,
        "order": "alternating blocks: off, on, off, on, ...",
        "router": "ensemble",
        "prompts": len(PROMPTS),
        "tracing": "sample_ratio 1.0, batches every 100 ms of at most 128 spans, OTLP/HTTP protobuf to a local receiver",
        "pinning": "gateways core 0 (one at a time); simulator, receiver and client core 1",
        "simulator": "ttft 0 ms, 24 answer tokens",
    }
    path = write_result("tracing_overhead", config, {"summary": summary})
    _plot(samples, RESULTS / "tracing_overhead.png", args.rps)
    print(summary)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
