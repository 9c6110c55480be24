"""The semantic cache end to end: real gateway processes, a real Redis, the real encoders, the openai SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from gateway.local import processes as procs
from tests.conftest import tier
from tests.e2e.test_security import ENV, MASTER, admin

pytestmark = pytest.mark.model  # the gateway loads the encoders' weights

ANCHOR = "How do I cancel my subscription?"
PARAPHRASE = "I want to cancel my subscription, how do I do that?"  # 0.975 (embedding), 0.945 (static)


def semantic_config(sim_url: str, redis_url: str | None, **extra: Any) -> dict[str, Any]:
    return {
        "tiers": {"cheap": tier(sim_url, "sim-cheap", "relay"), "frontier": tier(sim_url, "sim-frontier", "relay")},
        "profiles": {
            "faq": {"router": "heuristic", "cache": {"semantic": {"enabled": True}}},
            "faq-static": {"router": "heuristic", "cache": {"semantic": {"enabled": True, "encoder": "static"}}},
            "plain": {"router": "heuristic"},
        },
        "cache": {"semantic_index": {"sync_interval_s": 0.2}},
        "redis": {"url": redis_url, "retry_interval_s": 0.2},
        **extra,
    }


@pytest.fixture(scope="module")
def gateway(sim_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with procs.gateway(semantic_config(sim_url, redis_url), tmp_path_factory.mktemp("semantic")) as url:
        yield url


def sdk(url: str, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=30)


def tenant() -> str:
    return f"tenant-{time.time_ns()}"  # a fresh namespace: nothing stored by other tests matches


def ask(client: openai.OpenAI, text: str, model: str = "faq", store: bool = True) -> Any:
    return client.chat.completions.with_raw_response.create(
        model=model,
        messages=[{"role": "user", "content": text}],
        temperature=0,
        extra_headers={} if store else {"Cache-Control": "no-store"},
    )


def cache_results(url: str) -> dict[str, float]:
    lines = httpx.get(f"{url}/metrics").text.splitlines()
    prefix = 'triage_cache_requests_total{result="'
    return {line[len(prefix) :].split('"')[0]: float(line.split()[-1]) for line in lines if line.startswith(prefix)}


@pytest.mark.parametrize("model", ["faq", "faq-static"])
def test_a_paraphrase_is_a_semantic_hit_with_its_similarity(gateway: str, model: str) -> None:
    before = cache_results(gateway).get("semantic_hit", 0.0)
    with sdk(gateway, tenant()) as client:
        first = ask(client, ANCHOR, model)
        again = ask(client, ANCHOR, model)
        near = ask(client, PARAPHRASE, model)
        other = ask(client, "How do I cancel my order?", model)
        number = ask(client, "How do I cancel my 2 subscriptions?", model)
    assert first.headers["x-triage-cache"] == "miss"
    assert again.headers["x-triage-cache"] == "hit", "the exact cache is consulted first"
    assert "x-triage-cache-similarity" not in again.headers
    assert near.headers["x-triage-cache"] == "semantic-hit"
    assert 0.93 <= float(near.headers["x-triage-cache-similarity"]) < 1.0
    assert near.headers["x-triage-reason"] == "semantic cache hit"
    assert float(near.headers["x-triage-cost-usd"]) == 0.0
    assert near.headers["x-triage-tier"] == first.headers["x-triage-tier"]
    assert near.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert other.headers["x-triage-cache"] == "miss", "another topic is under the threshold"
    assert number.headers["x-triage-cache"] == "miss", "another number never matches"
    assert cache_results(gateway)["semantic_hit"] == before + 1


def test_only_profiles_that_enable_it_and_deterministic_requests(gateway: str) -> None:
    with sdk(gateway, tenant()) as client:
        ask(client, ANCHOR, "plain")
        assert ask(client, PARAPHRASE, "plain").headers["x-triage-cache"] == "miss"
        ask(client, ANCHOR)
        warm = client.chat.completions.with_raw_response.create(
            model="faq", messages=[{"role": "user", "content": PARAPHRASE}], temperature=0.7
        )
        assert warm.headers["x-triage-cache"] == "bypass"
        assert ask(client, PARAPHRASE, "faq-static").headers["x-triage-cache"] == "miss", "never across profiles"


def test_a_semantic_hit_is_replayed_as_a_stream(gateway: str) -> None:
    with sdk(gateway, tenant()) as client:
        whole = ask(client, ANCHOR).parse().choices[0].message.content
        with client.chat.completions.with_streaming_response.create(
            model="faq",
            messages=[{"role": "user", "content": PARAPHRASE}],
            temperature=0,
            stream=True,
            stream_options={"include_usage": True},
        ) as response:
            assert response.headers["x-triage-cache"] == "semantic-hit"
            assert float(response.headers["x-triage-cache-similarity"]) >= 0.93
            chunks = list(response.parse())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == whole
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0


def test_a_second_replica_rebuilds_its_index_from_redis_and_keeps_it_current(
    gateway: str, sim_url: str, redis_url: str, tmp_path: Path
) -> None:
    key = tenant()
    with sdk(gateway, key) as client:
        ask(client, ANCHOR)
    with procs.gateway(semantic_config(sim_url, redis_url), tmp_path) as second, sdk(second, key) as other:
        assert ask(other, PARAPHRASE).headers["x-triage-cache"] == "semantic-hit", "rebuilt at start"
        with sdk(gateway, key) as client:
            ask(client, "How do I reset my password?")
        deadline = time.monotonic() + 5
        status = ""
        while status != "semantic-hit" and time.monotonic() < deadline:
            time.sleep(0.1)
            status = ask(other, "How can I reset my password?", store=False).headers["x-triage-cache"]
        assert status == "semantic-hit", "an entry stored elsewhere later is found after a sync"


def test_tenants_never_share_semantic_hits(sim_url: str, redis_url: str, tmp_path: Path) -> None:
    config = semantic_config(sim_url, redis_url, auth={"mode": "keys", "master_key_env": "TRIAGE_MASTER_KEY"})
    with procs.gateway(config, tmp_path, ENV) as url:
        a = admin(url, "POST", name="tenant-a").json()["key"]
        b = admin(url, "POST", name="tenant-b").json()["key"]
        with sdk(url, a) as first, sdk(url, b) as second, sdk(url, MASTER) as master:
            mine = ask(first, ANCHOR).parse().choices[0].message.content
            theirs = ask(second, PARAPHRASE)
            assert theirs.headers["x-triage-cache"] == "miss", "never another tenant's answer"
            assert ask(master, PARAPHRASE).headers["x-triage-cache"] == "miss", "nor the master key's"
            near = ask(first, PARAPHRASE)
            assert near.headers["x-triage-cache"] == "semantic-hit"
            assert near.parse().choices[0].message.content == mine != theirs.parse().choices[0].message.content


def test_redis_down_bypasses_the_semantic_cache_without_an_error(sim_url: str, tmp_path: Path) -> None:
    port = procs.free_port()
    with (
        procs.redis_server(tmp_path, port=port) as (redis_url, redis_process),
        procs.gateway(semantic_config(sim_url, redis_url), tmp_path) as url,
        sdk(url, tenant()) as client,
    ):
        ask(client, ANCHOR)
        assert ask(client, PARAPHRASE).headers["x-triage-cache"] == "semantic-hit"
        procs.stop(redis_process)
        for text in (PARAPHRASE, ANCHOR, "How can I cancel my subscription?"):
            response = ask(client, text)
            assert response.http_response.status_code == 200
            assert response.headers["x-triage-cache"] in ("bypass", "miss")
            assert response.parse().choices[0].message.content
        assert ask(client, PARAPHRASE).headers["x-triage-cache"] == "bypass"
