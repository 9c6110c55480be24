"""Cost report: routing-dev prompts replayed through Triage, priced as gpt-4o vs a self-hosted 8B model.

Each profile (``auto``, ``auto-economy`` with the registry's default router, ``auto`` with
the heuristic router) and the two baselines (pinned ``frontier`` = all-frontier, pinned
``cheap`` = all-cheap) get the same prompts, through a real gateway against the simulator.
The tiers' ``price`` is a real pair: frontier = gpt-4o from litellm's local cost map, cheap =
a self-hosted 8B model at a stated price. Dollars come from each response's
``x-triage-cost-usd``; expected quality from the labels by the tier that answered
(``x-triage-tier``): ``strong_score`` for frontier, ``weak_score`` for cheap. The response
cache is off, so every request is priced. Writes ``benchmarks/results/cost.json`` and ``cost.png``.

    .venv/bin/python benchmarks/cost_report.py [--prompts 400]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import tempfile
from pathlib import Path
from typing import Any

import httpx
import servers  # type: ignore[import-not-found]
from load_setup import DEV, default_router  # type: ignore[import-not-found]
from router_quality import read_rows  # type: ignore[import-not-found]

from common import RESULTS, write_result  # type: ignore[import-not-found]

CHEAP_PRICE = {"input_per_mtok": 0.05, "output_per_mtok": 0.20}
CHEAP_NAME = "self-hosted Llama-3.1-8B-class model (stated price)"
ANSWER_TOKENS = 250
CONCURRENCY = 8
MODELS = ("auto", "auto-economy", "auto-heuristic", "frontier", "cheap")


def frontier_price() -> dict[str, float]:
    """gpt-4o's USD per million tokens from litellm's bundled cost map (no network)."""
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm

    info = litellm.get_model_info("openai/gpt-4o")
    return {
        "input_per_mtok": round(float(info["input_cost_per_token"]) * 1e6, 6),
        "output_per_mtok": round(float(info["output_cost_per_token"]) * 1e6, 6),
    }


def gateway_config(sim_url: str, frontier: dict[str, float]) -> dict[str, Any]:
    router = default_router()
    return {
        "tiers": {
            "cheap": {"model": "openai/sim-cheap", "api_base": sim_url, "price": CHEAP_PRICE},
            "frontier": {"model": "openai/sim-frontier", "api_base": sim_url, "price": frontier},
        },
        "profiles": {
            "auto": {"router": router, "frontier_share": 0.3},
            "auto-economy": {"router": router, "frontier_share": 0.1},
            "auto-heuristic": {"router": "heuristic", "frontier_share": 0.3},
        },
        "cache": {"enabled": False},
        "log_level": "warning",
    }


async def replay(url: str, model: str, rows: list[dict[str, Any]]) -> list[tuple[str, float]]:
    """(tier, cost) per row, in order; ``("error", 0)`` for a failed request."""
    limit = asyncio.Semaphore(CONCURRENCY)
    async with httpx.AsyncClient(timeout=60) as client:

        async def one(row: dict[str, Any]) -> tuple[str, float]:
            body = {"model": model, "messages": [{"role": "user", "content": str(row["prompt"])}]}
            async with limit:
                response = await client.post(f"{url}/v1/chat/completions", json=body)
            if response.status_code != 200:
                return "error", 0.0
            return response.headers["x-triage-tier"], float(response.headers["x-triage-cost-usd"])

        return await asyncio.gather(*(one(r) for r in rows))


def summarise(rows: list[dict[str, Any]], answers: list[tuple[str, float]]) -> dict[str, Any]:
    n = len(rows)
    cost = sum(c for _, c in answers)
    quality = [
        float(r["strong_score"]) if t == "frontier" else float(r["weak_score"])
        for r, (t, _) in zip(rows, answers, strict=True)
        if t != "error"
    ]
    return {
        "requests": n,
        "errors": sum(t == "error" for t, _ in answers),
        "frontier_share": sum(t == "frontier" for t, _ in answers) / n,
        "usd_total": cost,
        "usd_per_1k_requests": 1000 * cost / n,
        "expected_quality": sum(quality) / max(1, len(quality)),
    }


def plot(profiles: dict[str, dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for name, row in profiles.items():
        ax.scatter(row["usd_per_1k_requests"], row["expected_quality"], s=40)
        ax.annotate(
            f"{name} ({row['frontier_share']:.0%} frontier)",
            (row["usd_per_1k_requests"], row["expected_quality"]),
            textcoords="offset points",
            xytext=(5, 4),
            fontsize=8,
        )
    ax.set_xlabel("USD per 1,000 requests (gpt-4o frontier, 8B self-hosted cheap)")
    ax.set_ylabel("expected quality (routing-dev labels)")
    ax.set_title("Cost vs expected quality per profile")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--prompts", type=int, default=400, help="routing-dev prompts replayed per profile")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rows = read_rows(DEV, None)
    rows = random.Random(args.seed).sample(rows, min(args.prompts, len(rows)))
    frontier = frontier_price()
    sim_args = ["--ttft-ms", "0", "--tokens-per-s", "1000000", "--answer-tokens", str(ANSWER_TOKENS)]
    config = gateway_config("SIM", frontier)
    with (
        tempfile.TemporaryDirectory() as tmp,
        servers.simulator(sim_args, Path(tmp), core=1) as sim,
        servers.triage(gateway_config(sim.url, frontier), Path(tmp), core=0) as gw,
    ):
        profiles = {m: summarise(rows, asyncio.run(replay(gw.url, m, rows))) for m in MODELS}
    base = profiles["frontier"]
    for row in profiles.values():
        row["savings_vs_frontier"] = 1 - row["usd_total"] / base["usd_total"]
        row["quality_vs_frontier"] = row["expected_quality"] / base["expected_quality"]
        print(f"{row}")
    meta = {
        "prompts": len(rows),
        "seed": args.seed,
        "data": DEV.name,
        "answer_tokens": ANSWER_TOKENS,
        "frontier": {"model": "openai/gpt-4o (litellm cost map)", "price": frontier},
        "cheap": {"model": CHEAP_NAME, "price": CHEAP_PRICE},
        "gateway": config,
        "quality": "strong_score if x-triage-tier is frontier else weak_score",
    }
    path = write_result("cost", meta, {"profiles": profiles})
    plot(profiles, RESULTS / "cost.png")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
