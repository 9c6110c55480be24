"""``triage demo``'s second act: the sample prompts through the demo config's ``ladder`` profile.

The ladder has four rungs (cheap, mid, frontier, reasoning). The demo's own samples are either
plainly easy or plainly hard, so two prompts from the middle of the router's range are added,
and one request sets ``reasoning_effort`` (it climbs to the reasoning rung). It prints where each
went, then one summary row per rung: its configured share, the requests it took and their cost,
against sending everything to the top rung.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import yaml

from gateway.settings import DEMO_CONFIG

PROFILE = "ladder"
MIDDLE_PROMPTS = (
    "Write a function to find the highest common ancestor (not LCA) of two nodes in a binary tree.",
    "In the field of quantum physics, what is superposition, and how does it relate to quantum entanglement?",
)
REASONING_PROMPT = "Is 1,000,003 a prime number? Think it through."


@dataclass(frozen=True, slots=True)
class Sent:
    tier: str
    score: str
    ms: float
    cost: float
    prompt: str
    usage: tuple[int, int]  # prompt and completion tokens


def ladder_rungs(config: Mapping[str, Any]) -> list[tuple[str, float]] | None:
    """The ladder profile's (tier, share) rungs in the demo config, or ``None`` without one."""
    profile = config.get("profiles", {}).get(PROFILE)
    if not profile or "ladder" not in profile:
        return None
    return [(rung["tier"], float(rung["share"])) for rung in profile["ladder"]]


def _send(client: httpx.Client, prompt: str, extra: Mapping[str, Any]) -> Sent | None:
    started = time.perf_counter()
    body = {"model": PROFILE, "messages": [{"role": "user", "content": prompt}], **extra}
    response = client.post("/chat/completions", json=body)
    elapsed_ms = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        print(f"{'error':<10} {'':>6} {elapsed_ms:6.0f} {'':>10}  {response.status_code} {response.text[:80]}")
        return None
    h, usage = response.headers, response.json()["usage"]
    tokens = (int(usage["prompt_tokens"]), int(usage["completion_tokens"]))
    sent = Sent(
        h["x-triage-tier"], h.get("x-triage-score", ""), elapsed_ms, float(h["x-triage-cost-usd"]), prompt, tokens
    )
    short = prompt if len(prompt) <= 70 else prompt[:67] + "..."
    note = " (reasoning_effort: high)" if extra else ""
    print(f"{sent.tier:<10} {sent.score:>6} {elapsed_ms:6.0f} {sent.cost:10.6f}  {short}{note}")
    return sent


def route_ladder(port: int, samples: tuple[str, ...]) -> int:
    """Send the samples through the ladder profile and print the per-rung summary; 1 if any failed."""
    config = yaml.safe_load(DEMO_CONFIG.read_text())
    rungs = ladder_rungs(config)
    if rungs is None:
        return 0
    top = config["tiers"][rungs[-1][0]]["price"]
    print(f"\nThe same prompts (and {len(MIDDLE_PROMPTS) + 1} more) through the `{PROFILE}` profile:")
    print(f"\n{'tier':<10} {'score':>6} {'ms':>6} {'cost $':>10}  prompt")
    sends: list[tuple[str, dict[str, str]]] = [(p, {}) for p in (*samples, *MIDDLE_PROMPTS)]
    sends.append((REASONING_PROMPT, {"reasoning_effort": "high"}))
    with httpx.Client(base_url=f"http://127.0.0.1:{port}/v1", timeout=120.0) as client:
        results = [_send(client, prompt, extra) for prompt, extra in sends]
    sent = [s for s in results if s is not None]
    _summary(rungs, sent, top)
    return 0 if len(sent) == len(sends) else 1


def _summary(rungs: list[tuple[str, float]], sent: list[Sent], top: Mapping[str, float]) -> None:
    print(f"\n{'rung':<10} {'share':>6} {'requests':>9} {'cost $':>10}")
    for name, share in rungs:
        mine = [s for s in sent if s.tier == name]
        print(f"{name:<10} {share:>6.2f} {len(mine):>9} {sum(s.cost for s in mine):10.6f}")
    total = sum(s.cost for s in sent)
    # the counterfactual: the same tokens at the top rung's prices (the profile's savings counterfactual)
    counterfactual = (
        sum(i * top["input_per_mtok"] + o * top["output_per_mtok"] for i, o in (s.usage for s in sent)) / 1e6
    )
    saved = 100 * (1 - total / counterfactual) if counterfactual else 0
    print(f"\nspent ${total:.6f}; all on {rungs[-1][0]} would have cost ${counterfactual:.6f} (saved {saved:.0f}%)")
