"""The real routers behind the gateway: `auto` (the default router) and `auto-precise` (embedding)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import httpx
import pytest

from gateway.local import processes as procs
from routers.registry import DEFAULT_ROUTER, build_router
from tests.conftest import tier

pytestmark = pytest.mark.model

PROMPTS = [
    "What is the capital of France?",
    "Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
    "How many clips did Natalia sell altogether in April and May?",
    "Which of these is a prime number? A. 21 B. 27 C. 29 D. 33 Answer:",
]


@pytest.fixture(scope="module")
def gateway(sim_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = {
        "tiers": {"cheap": tier(sim_url, "sim-cheap", "relay"), "frontier": tier(sim_url, "sim-frontier", "relay")},
        "profiles": {
            "auto": {"router": DEFAULT_ROUTER, "frontier_share": 0.3},
            "auto-precise": {"router": "embedding", "frontier_share": 0.3},
        },
    }
    with procs.gateway(config, tmp_path_factory.mktemp("routers")) as url:
        yield url


@pytest.mark.parametrize(("profile", "router"), [("auto", DEFAULT_ROUTER), ("auto-precise", "embedding")])
def test_the_score_header_carries_the_real_router_score(gateway: str, profile: str, router: str) -> None:
    local = build_router(router)
    try:
        for prompt in PROMPTS:
            messages = [{"role": "user", "content": prompt}]
            response = httpx.post(
                f"{gateway}/v1/chat/completions", json={"model": profile, "messages": messages}, timeout=30
            )
            assert response.status_code == 200
            expected = asyncio.run(local.score(messages)).value
            assert float(response.headers["x-triage-score"]) == pytest.approx(expected, abs=2e-4)
            threshold = local.calibration.threshold_for_share(0.3)
            assert response.headers["x-triage-tier"] == ("frontier" if expected >= threshold else "cheap")
    finally:
        asyncio.run(local.aclose())


async def test_concurrent_requests_through_the_embedding_micro_batcher(gateway: str) -> None:
    async with httpx.AsyncClient(timeout=60) as client:
        responses = await asyncio.gather(
            *(
                client.post(
                    f"{gateway}/v1/chat/completions",
                    json={"model": "auto-precise", "messages": [{"role": "user", "content": f"{p} ({i})"}]},
                )
                for i, p in enumerate(PROMPTS * 8)
            )
        )
    assert all(r.status_code == 200 for r in responses)
    assert len({r.headers["x-triage-score"] for r in responses}) > 3
