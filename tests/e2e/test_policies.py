"""Policies end to end: context, capabilities, circuit breakers and budgets, on real processes."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis

from gateway.local import processes as procs
from tests.conftest import tier

HELLO = [{"role": "user", "content": "hello"}]


def policy_config(sim_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "tiers": {
            "cheap": tier(sim_url, "sim-cheap", "relay", context_window=400, capabilities=[]),
            "frontier": tier(sim_url, "sim-frontier", "relay", context_window=4000),
        },
        "profiles": {
            "auto": {"router": "heuristic", "frontier_share": 0.0},
            "header-pins": {"router": "heuristic", "frontier_share": 0.0, "allow_tier_header": True},
        },
        **extra,
    }


@pytest.fixture(scope="module")
def gateway(sim_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with procs.gateway(policy_config(sim_url), tmp_path_factory.mktemp("policies")) as url:
        yield url


def post(url: str, **body: Any) -> httpx.Response:
    return httpx.post(f"{url}/v1/chat/completions", json={"model": "auto", "messages": HELLO, **body}, timeout=30)


def test_a_prompt_too_long_for_cheap_escalates(gateway: str) -> None:
    short = post(gateway)
    assert short.headers["x-triage-tier"] == "cheap"
    long = post(gateway, messages=[{"role": "user", "content": "word " * 500}], max_tokens=50)
    assert long.status_code == 200
    assert long.headers["x-triage-tier"] == "frontier"
    assert "context window" in long.headers["x-triage-reason"]
    too_long = post(gateway, messages=[{"role": "user", "content": "word " * 5000}])
    assert too_long.status_code == 400
    assert too_long.json()["error"]["code"] == "context_length_exceeded"
    message = too_long.json()["error"]["message"]  # no max_tokens in the request: none in the message
    assert "needs more than any eligible tier's context window (largest: " in message
    assert "max tokens" not in message
    # a max_tokens that does not fit cheap's window escalates too
    assert post(gateway, max_tokens=1000).headers["x-triage-tier"] == "frontier"


def test_a_tools_request_to_a_tier_without_tools_escalates(gateway: str) -> None:
    tools = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]
    response = post(gateway, tools=tools)
    assert response.status_code == 200
    assert response.headers["x-triage-tier"] == "frontier"
    assert "lacks a feature" in response.headers["x-triage-reason"]
    assert response.json()["choices"][0]["finish_reason"] == "tool_calls"
    pinned = httpx.post(f"{gateway}/v1/chat/completions", json={"model": "cheap", "messages": HELLO, "tools": tools})
    assert pinned.status_code == 400 and pinned.json()["error"]["code"] == "unsupported_feature"


def test_tier_header_pins_only_where_the_profile_allows(gateway: str) -> None:
    allowed = httpx.post(
        f"{gateway}/v1/chat/completions",
        headers={"x-triage-tier": "frontier"},
        json={"model": "header-pins", "messages": HELLO},
    )
    assert allowed.headers["x-triage-tier"] == "frontier" and allowed.headers["x-triage-reason"].startswith("pinned")
    ignored = httpx.post(
        f"{gateway}/v1/chat/completions",
        headers={"x-triage-tier": "frontier"},
        json={"model": "auto", "messages": HELLO},
    )
    assert ignored.headers["x-triage-tier"] == "cheap"


def test_one_json_log_line_per_request_without_prompt_text(sim_url: str, tmp_path: Path) -> None:
    secret = "my-secret-prompt-words"
    with procs.gateway_process(policy_config(sim_url), tmp_path, capture=True) as (url, process):
        post(url, messages=[{"role": "user", "content": secret}])
        procs.stop(process)
    assert process.stdout is not None
    lines = [json.loads(line) for line in process.stdout.read().decode().splitlines() if line.startswith("{")]
    assert len(lines) == 1
    line = lines[0]
    for field in (
        "request_id",
        "profile",
        "score",
        "tier",
        "model",
        "reason",
        "retries",
        "fallbacks",
        "latency_ms",
        "prompt_tokens",
        "completion_tokens",
        "cost_usd",
    ):
        assert field in line
    assert line["tier"] == "cheap" and line["status"] == 200 and line["cost_usd"] > 0
    assert secret not in json.dumps(line)


def breaker_config(sim_url: str, key: str, redis_url: str | None = None) -> dict[str, Any]:
    cheap = tier(sim_url, "sim-cheap", "relay", max_retries=0, extra_headers={"x-sim-fault": f"500;first=5;key={key}"})
    return {
        "tiers": {"cheap": cheap, "frontier": tier(sim_url, "sim-frontier", "relay")},
        "profiles": {"auto": {"router": "heuristic", "frontier_share": 0.0}},
        "breaker": {"failure_threshold": 3, "cooldown_s": 1.0, "sync_interval_s": 0.2},
        "redis": {"url": redis_url},
    }


def test_dead_cheap_tier_opens_the_breaker_moves_traffic_and_recovers(sim_url: str, tmp_path: Path) -> None:
    with procs.gateway(breaker_config(sim_url, f"breaker-{time.time_ns()}"), tmp_path) as url:
        first = [post(url) for _ in range(3)]
        assert all(r.status_code == 200 and r.headers["x-triage-tier"] == "frontier" for r in first)
        assert all("fell back from cheap to frontier" in r.headers["x-triage-reason"] for r in first)
        moved = post(url)
        assert moved.headers["x-triage-tier"] == "frontier"
        assert "breaker open on cheap" in moved.headers["x-triage-reason"]
        assert 'triage_breaker_state{tier="cheap"} 2.0' in httpx.get(f"{url}/metrics").text
        recovered = None
        for _ in range(6):  # half-open probes: failures 4 and 5 reopen it, the 6th call succeeds
            time.sleep(1.1)
            response = post(url)
            assert response.status_code == 200
            if response.headers["x-triage-tier"] == "cheap":
                recovered = response
                break
        assert recovered is not None, "the breaker closed after the tier recovered"
        assert post(url).headers["x-triage-tier"] == "cheap"
        assert 'triage_breaker_state{tier="cheap"} 0.0' in httpx.get(f"{url}/metrics").text


def test_an_open_breaker_is_shared_through_redis(sim_url: str, redis_url: str, tmp_path: Path) -> None:
    config = breaker_config(sim_url, f"shared-{time.time_ns()}", redis_url)
    with procs.gateway(config, tmp_path) as a, procs.gateway(config, tmp_path) as b:
        for _ in range(3):
            post(a)
        time.sleep(0.6)  # b syncs every 0.2 s
        seen = post(b)
        assert "breaker open on cheap" in seen.headers["x-triage-reason"]


def test_two_gateways_share_one_budget_and_overspend_by_at_most_one_request(
    sim_url: str, redis_url: str, tmp_path: Path
) -> None:
    price = {"input_per_mtok": 100.0, "output_per_mtok": 400.0}
    config = {
        "tiers": {
            "cheap": {**tier(sim_url, "sim-cheap", "relay"), "price": price},
            "frontier": {**tier(sim_url, "sim-frontier", "relay"), "price": price},
        },
        "profiles": {"auto": {"router": "heuristic", "frontier_share": 0.0}},
        "budget": {"limit_usd": 0.05, "window": "day"},
        "redis": {"url": redis_url},
    }
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter("triage:budget:*"):
        client.delete(key)
    with procs.gateway(config, tmp_path) as a, procs.gateway(config, tmp_path) as b:

        def call(i: int) -> httpx.Response:
            return post(a if i % 2 else b, max_tokens=8, messages=[{"role": "user", "content": f"spend {i}"}])

        with ThreadPoolExecutor(max_workers=4) as pool:
            responses = list(pool.map(call, range(40)))
    client.close()
    ok = [r for r in responses if r.status_code == 200]
    refused = [r for r in responses if r.status_code == 429]
    assert ok and refused and len(ok) + len(refused) == len(responses)
    assert all(r.json()["error"]["code"] == "budget_exceeded" for r in refused)
    spent = sum(float(r.headers["x-triage-cost-usd"]) for r in ok)
    largest = max(float(r.headers["x-triage-cost-usd"]) for r in ok)
    assert spent <= 0.05 + largest, f"spent {spent} against a 0.05 budget"
    assert spent > 0.05 - 2 * largest, "the budget was used, not refused early"
