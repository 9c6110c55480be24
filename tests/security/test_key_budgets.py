"""Issue 12.2: a per-key budget holds with Redis, across replicas, with and without a global budget.

50 concurrent requests on a key with a tiny budget, spread over two gateway processes
sharing one real Redis: what the key spends stays within its limit plus one request's
estimate, and the spend counter never goes negative.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from gateway.local import processes as procs
from tests.conftest import tier

MASTER = "master-key-for-tests-0123456789"
ENV = {"TRIAGE_MASTER_KEY": MASTER}
KEY_BUDGET = 0.003
MAX_TOKENS = 24  # what the session simulator answers: estimates match actual costs closely
# frontier prices: $2.50 in, $10 out per million tokens; "hello" is a handful of prompt tokens
ESTIMATE = (20 * 2.50 + MAX_TOKENS * 10.00) / 1e6


def config(sim_url: str, redis_url: str, global_limit: float | None) -> dict[str, Any]:
    return {
        "tiers": {"cheap": tier(sim_url, "sim-cheap", "relay"), "frontier": tier(sim_url, "sim-frontier", "relay")},
        "profiles": {"auto": {"router": "heuristic", "over_budget": "reject"}},
        "auth": {"mode": "keys", "master_key_env": "TRIAGE_MASTER_KEY"},
        "redis": {"url": redis_url},
        "budget": {"limit_usd": global_limit, "window": "day"},
    }


@pytest.fixture(params=[None, 100.0], ids=["no-global-budget", "global-budget"])
def replicas(
    request: pytest.FixtureRequest, sim_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    redis.Redis.from_url(redis_url).flushdb()
    directory = tmp_path_factory.mktemp("key-budget")
    cfg = config(sim_url, redis_url, request.param)
    with procs.gateway(cfg, directory, ENV) as a, procs.gateway(cfg, directory, ENV) as b:
        yield a, b


async def _burst(urls: list[str], key: str, count: int) -> list[httpx.Response]:
    body = {"model": "frontier", "messages": [{"role": "user", "content": "hello"}], "max_tokens": MAX_TOKENS}
    headers = {"Authorization": f"Bearer {key}"}
    async with httpx.AsyncClient(timeout=30) as client:
        calls = [client.post(f"{urls[i % 2]}/v1/chat/completions", json=body, headers=headers) for i in range(count)]
        return list(await asyncio.gather(*calls))


def test_fifty_concurrent_requests_stay_within_the_key_budget(replicas: tuple[str, str], redis_url: str) -> None:
    a, b = replicas
    created = httpx.post(
        f"{a}/admin/keys",
        headers={"Authorization": f"Bearer {MASTER}"},
        json={"name": "tiny", "budget_usd": KEY_BUDGET},
    )
    assert created.status_code == 201, created.text
    key, key_id = created.json()["key"], created.json()["id"]
    responses = asyncio.run(_burst([a, b], key, 50))
    served = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert len(served) + len(refused) == 50, [r.text for r in responses if r.status_code not in (200, 429)]
    assert served and refused
    assert all(r.json()["error"]["code"] == "budget_exceeded" for r in refused)
    spent = sum(float(r.headers["x-triage-cost-usd"]) for r in served)
    assert spent <= KEY_BUDGET + ESTIMATE, (spent, len(served))
    counters = redis.Redis.from_url(redis_url).keys(f"triage:budget:key:{key_id}:*")
    assert len(counters) == 1
    counted = float(redis.Redis.from_url(redis_url).get(counters[0]) or 0)
    assert counted == pytest.approx(spent, abs=1e-9)  # settled to the actual cost, never negative
