"""The demo's first impression: its obviously easy prompts go cheap, its obviously hard ones frontier.

Routed the way ``triage demo`` routes them: the embedded demo config's ``auto`` profile (its
router, its frontier share, its calibrated threshold), through the real policy.
"""

from __future__ import annotations

import asyncio

import pytest

from gateway.local.demo import SAMPLE_PROMPTS
from gateway.request.profiles import build_profiles, build_routers
from gateway.settings import DEMO_CONFIG, load_settings

EASY = ("What is the capital of France?", "Translate 'good morning", "Summarise the plot of Romeo", "What's 2 + 2?")
HARD = (
    "Prove that there are infinitely many prime",
    "Write a Python function that returns the longest",
    "Compare the CAP-theorem",
)


@pytest.mark.model
def test_the_demo_routes_easy_prompts_cheap_and_hard_prompts_to_the_frontier() -> None:
    settings = load_settings(DEMO_CONFIG)
    auto = build_profiles(settings, build_routers(settings))["auto"]
    scores = {p: asyncio.run(auto.router.score([{"role": "user", "content": p}])).value for p in SAMPLE_PROMPTS}
    routed = {p: "frontier" if s >= auto.view.threshold else "cheap" for p, s in scores.items()}
    for start in EASY:
        (prompt,) = [p for p in SAMPLE_PROMPTS if p.startswith(start)]
        assert routed[prompt] == "cheap" and scores[prompt] < 0.2, (prompt, scores[prompt])
    for start in HARD:
        (prompt,) = [p for p in SAMPLE_PROMPTS if p.startswith(start)]
        assert routed[prompt] == "frontier" and scores[prompt] > 0.8, (prompt, scores[prompt])
