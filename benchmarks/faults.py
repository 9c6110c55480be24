"""Requests lost under injected upstream faults, and the circuit breaker's reaction time.

1. ``faults``: 30 s of open-loop traffic (evenly spaced starts, 40 RPS) through Triage to a
   simulator that fails 20% of calls (10% 500, 5% 503, 5% connection resets), streaming and
   not. Every response must be a 200 or an OpenAI-shaped error; anything else is "lost".
2. ``breaker``: the cheap tier dies (every call 500); how long until the breaker opens and
   traffic stops reaching it, counted in seconds and in failed calls.

    .venv/bin/python benchmarks/faults.py [--seconds 30] [--rps 40]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from common import write_result  # type: ignore[import-not-found]

from gateway.local import processes as procs

PRICE = {"input_per_mtok": 0.1, "output_per_mtok": 0.4}


def _config(sim_url: str, cheap_headers: dict[str, str] | None = None) -> dict[str, Any]:
    cheap = {"model": "openai/sim-cheap", "api_base": sim_url, "price": PRICE, "extra_headers": cheap_headers or {}}
    return {
        "tiers": {"cheap": cheap, "frontier": {"model": "openai/sim-frontier", "api_base": sim_url, "price": PRICE}},
        "profiles": {"auto": {"router": "heuristic", "frontier_share": 0.3}},
        "log_level": "error",
        "log_requests": False,
    }


def _shaped(response: httpx.Response) -> bool:
    try:
        error = response.json()["error"]
    except (ValueError, KeyError, TypeError):
        return False
    return isinstance(error, dict) and {"message", "type", "param", "code"} <= set(error)


async def _one(client: httpx.AsyncClient, url: str, i: int, outcome: dict[str, int]) -> None:
    stream = i % 3 == 0
    body = {"model": "auto", "stream": stream, "messages": [{"role": "user", "content": f"question {i}"}]}
    try:
        if stream:
            async with client.stream("POST", url, json=body) as response:
                text = (await response.aread()).decode()
            if response.status_code == 200:
                key = "ok" if text.rstrip().endswith("data: [DONE]") and '"error"' not in text else "stream_error_event"
            else:
                key = "openai_error" if _shaped(httpx.Response(response.status_code, content=text)) else "lost"
        else:
            response = await client.post(url, json=body)
            key = "ok" if response.status_code == 200 else ("openai_error" if _shaped(response) else "lost")
    except httpx.HTTPError:
        key = "lost"
    outcome[key] = outcome.get(key, 0) + 1


async def _open_loop(url: str, seconds: float, rps: float) -> dict[str, int]:
    outcome: dict[str, int] = {}
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=500)) as client:
        tasks = []
        start = time.perf_counter()
        for i in range(int(seconds * rps)):
            await asyncio.sleep(max(0.0, start + i / rps - time.perf_counter()))
            tasks.append(asyncio.create_task(_one(client, url, i, outcome)))
        await asyncio.gather(*tasks)
    return outcome


def run_faults(seconds: float, rps: float, tmp: Path) -> dict[str, Any]:
    faults = ["--fault", "500=0.1", "--fault", "503=0.05", "--fault", "reset=0.05;after=2"]
    with (
        procs.simulator(["--ttft-ms", "20", "--tokens-per-s", "400", *faults]) as sim,
        procs.gateway(_config(sim), tmp) as gateway,
    ):
        outcome = asyncio.run(_open_loop(f"{gateway}/v1/chat/completions", seconds, rps))
        metrics = httpx.get(f"{gateway}/metrics").text
    injected = sum(
        float(line.split()[-1]) for line in metrics.splitlines() if line.startswith("triage_upstream_errors_total{")
    )
    total = sum(outcome.values())
    return {
        "requests": total,
        "outcome": outcome,
        "lost": outcome.get("lost", 0),
        "upstream_errors_absorbed": injected,
        "success_rate": outcome.get("ok", 0) / max(total, 1),
    }


def run_breaker(tmp: Path) -> dict[str, Any]:
    with (
        procs.simulator(["--ttft-ms", "5"]) as sim,
        procs.gateway(_config(sim, {"x-sim-fault": "500"}), tmp) as gateway,
        httpx.Client(timeout=30) as client,
    ):
        started = time.perf_counter()
        failed_calls = 0
        for i in range(200):
            response = client.post(
                f"{gateway}/v1/chat/completions",
                json={"model": "cheap", "messages": [{"role": "user", "content": f"b{i}"}]},
            )
            reason = response.headers.get("x-triage-reason", "")
            if "breaker open on cheap" in reason:
                return {
                    "seconds_to_open": time.perf_counter() - started,
                    "requests_before_open": i,
                    "failed_upstream_calls_before_open": failed_calls,
                }
            failed_calls += 3  # max_retries 2: three failed attempts per request before the fallback
        return {"seconds_to_open": None, "requests_before_open": None}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--rps", type=float, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        faults = run_faults(args.seconds, args.rps, Path(tmp))
        breaker = run_breaker(Path(tmp))
    config = {
        "seconds": args.seconds,
        "rps": args.rps,
        "faults": "500 10%, 503 5%, reset 5%",
        "breaker": "failure_threshold 5 (default), max_retries 2",
    }
    path = write_result("faults", config, {"faults": faults, "breaker": breaker})
    print(f"faults: {faults}")
    print(f"breaker: {breaker}")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
