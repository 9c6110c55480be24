"""Gateway overhead: N sequential non-streaming requests through Triage vs directly to the simulator.

Both paths are measured in one run, interleaved request by request, so machine noise
hits both alike. The gateway is pinned to core 0, the simulator and this client to
core 1 (when taskset exists). Writes ``benchmarks/results/overhead.json`` and a PNG.

    .venv/bin/python benchmarks/overhead.py [--requests 200] [--transport relay|litellm]
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

BODY = {"model": "cheap", "messages": [{"role": "user", "content": "Give me three name ideas for a coffee shop."}]}


def _pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


def _config(sim_url: str, transport: str) -> dict[str, Any]:
    price = {"input_per_mtok": 0.1, "output_per_mtok": 0.4}
    tier = {"api_base": sim_url, "transport": transport, "price": price}
    return {
        "tiers": {"cheap": {"model": "openai/sim-cheap", **tier}, "frontier": {"model": "openai/sim-frontier", **tier}},
        "profiles": {"auto": {"router": "heuristic", "frontier_share": 0.3}},
        "log_level": "warning",
        "log_requests": False,
    }


def _measure(client: httpx.Client, url: str, body: dict[str, Any]) -> float:
    started = time.perf_counter()
    response = client.post(url, json=body)
    elapsed = time.perf_counter() - started
    response.raise_for_status()
    return elapsed * 1000


def run(requests: int, transport: str, profile: str) -> dict[str, Any]:
    sim_args = ["--ttft-ms", "0", "--tokens-per-s", "1000000", "--answer-tokens", "24"]
    with (
        procs.simulator(sim_args, prefix=_pin(1)) as sim_url,
        tempfile.TemporaryDirectory() as tmp,
        procs.gateway(_config(sim_url, transport), Path(tmp), prefix=_pin(0)) as gw_url,
        httpx.Client() as client,
    ):
        direct_url, gateway_url = f"{sim_url}/chat/completions", f"{gw_url}/v1/chat/completions"
        body = {**BODY, "model": "sim-cheap"}
        routed = {**BODY, "model": profile}
        for _ in range(30):  # warm-up: connections, caches, the router
            _measure(client, direct_url, body)
            _measure(client, gateway_url, routed)
        direct, through = [], []
        for _ in range(requests):
            direct.append(_measure(client, direct_url, body))
            through.append(_measure(client, gateway_url, routed))
    return {"direct_ms": direct, "gateway_ms": through}


def summarise(samples: dict[str, list[float]]) -> dict[str, float]:
    direct, through = samples["direct_ms"], samples["gateway_ms"]
    pairs = [t - d for d, t in zip(direct, through, strict=True)]
    return {
        "direct_p50_ms": statistics.median(direct),
        "direct_p99_ms": percentile(direct, 99),
        "gateway_p50_ms": statistics.median(through),
        "gateway_p99_ms": percentile(through, 99),
        # paired: request i went straight to the simulator, then through the gateway, back to back;
        # the overhead percentiles are those of the per-pair differences (never a p99 below the p50)
        "overhead_p50_ms": percentile(pairs, 50),
        "overhead_p90_ms": percentile(pairs, 90),
        "overhead_p99_ms": percentile(pairs, 99),
        "ratio_p50": statistics.median(through) / statistics.median(direct),
    }


def plot(all_samples: dict[str, dict[str, list[float]]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4))
    series = {"direct": next(iter(all_samples.values()))["direct_ms"]}
    series.update({f"triage ({name})": s["gateway_ms"] for name, s in all_samples.items()})
    for label, values in series.items():
        ordered = sorted(values)
        ax.plot([100 * i / (len(ordered) - 1) for i in range(len(ordered))], ordered, label=label)
    ax.set_xlabel("percentile")
    ax.set_ylabel("latency (ms)")
    ax.set_yscale("log")
    ax.set_title("Sequential non-streaming requests: direct vs through Triage")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--transport", choices=["relay", "litellm", "both"], default="both")
    parser.add_argument("--profile", default="auto", help="model to send through the gateway (a profile or tier)")
    args = parser.parse_args()
    transports = ["relay", "litellm"] if args.transport == "both" else [args.transport]
    samples = {t: run(args.requests, t, args.profile) for t in transports}
    summary = {t: summarise(s) for t, s in samples.items()}
    config = {
        "requests": args.requests,
        "profile": args.profile,
        "transports": transports,
        "simulator": "ttft 0 ms, 24 answer tokens",
        "pinning": "gateway core 0; simulator+client core 1",
    }
    path = write_result("overhead", config, {"summary": summary, "samples": samples})
    plot(samples, RESULTS / "overhead.png")
    for transport, row in summary.items():
        print(f"{transport:8s} " + "  ".join(f"{k}={v:.2f}" for k, v in row.items()))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
