"""The response cache end to end: a real Redis, a real gateway, the openai SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest

from gateway.local import processes as procs
from tests.conftest import tier


def cache_config(sim_url: str, redis_url: str | None, **redis: Any) -> dict[str, Any]:
    return {
        "tiers": {"cheap": tier(sim_url, "sim-cheap", "relay"), "frontier": tier(sim_url, "sim-frontier", "relay")},
        "profiles": {
            "auto": {"router": "heuristic", "frontier_share": 0.3},
            "short-lived": {"router": "heuristic", "cache": {"ttl_s": 1}},
            "shared": {"router": "heuristic", "cache": {"shared": True}},
            "creative": {"router": "heuristic", "cache": {"nondeterministic": True}},
        },
        "redis": {"url": redis_url, "retry_interval_s": 0.2, **redis},
    }


@pytest.fixture(scope="module", params=["redis", "memory"])
def cached_gateway(
    request: pytest.FixtureRequest, sim_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    url = redis_url if request.param == "redis" else None
    with procs.gateway(cache_config(sim_url, url), tmp_path_factory.mktemp("cache")) as gateway_url:
        yield gateway_url


def sdk(url: str, key: str = "tenant-a") -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0, timeout=30)


def ask(client: openai.OpenAI, text: str, model: str = "auto", **params: Any) -> Any:
    return client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": text}], **{"temperature": 0, **params}
    )


def unique(label: str) -> str:
    return f"{label} {time.time_ns()}"


def test_miss_then_hit_costs_nothing(cached_gateway: str) -> None:
    with sdk(cached_gateway) as client:
        text = unique("capital of France?")
        first = ask(client, text)
        second = ask(client, text)
    assert first.headers["x-triage-cache"] == "miss"
    assert second.headers["x-triage-cache"] == "hit"
    assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
    assert float(second.headers["x-triage-cost-usd"]) == 0.0
    assert float(first.headers["x-triage-cost-usd"]) > 0.0
    assert second.headers["x-triage-tier"] == first.headers["x-triage-tier"]
    assert second.headers["x-triage-reason"] == "cache hit"


def stream_text(client: openai.OpenAI, text: str, usage: bool = True) -> tuple[str, Any, str]:
    with client.chat.completions.with_streaming_response.create(
        model="auto",
        messages=[{"role": "user", "content": text}],
        temperature=0,
        stream=True,
        stream_options={"include_usage": usage},
    ) as response:
        status = response.headers["x-triage-cache"]
        content, last_usage = "", None
        for chunk in response.parse():
            if chunk.choices:
                content += chunk.choices[0].delta.content or ""
            last_usage = chunk.usage or last_usage
    return content, last_usage, status


def test_streamed_miss_then_streamed_hit(cached_gateway: str) -> None:
    with sdk(cached_gateway) as client:
        text = unique("stream me")
        first, usage1, status1 = stream_text(client, text)
        second, usage2, status2 = stream_text(client, text)
    assert (status1, status2) == ("miss", "hit")
    assert first == second and first
    assert usage2 is not None and usage2.completion_tokens == usage1.completion_tokens


def test_non_streaming_hit_serves_a_stream_and_the_other_way_round(cached_gateway: str) -> None:
    with sdk(cached_gateway) as client:
        text = unique("cross over")
        whole = ask(client, text)
        streamed, _, status = stream_text(client, text)
        assert status == "hit" and streamed == whole.parse().choices[0].message.content
        other = unique("cross back")
        streamed_first, _, _ = stream_text(client, other)
        again = ask(client, other)
        assert again.headers["x-triage-cache"] == "hit"
        assert again.parse().choices[0].message.content == streamed_first


def test_tenants_are_isolated_unless_the_profile_shares(cached_gateway: str) -> None:
    text = unique("tenant question")
    with sdk(cached_gateway, "tenant-a") as a, sdk(cached_gateway, "tenant-b") as b:
        ask(a, text)
        assert ask(a, text).headers["x-triage-cache"] == "hit"
        assert ask(b, text).headers["x-triage-cache"] == "miss"
        shared = unique("shared question")
        ask(a, shared, model="shared")
        assert ask(b, shared, model="shared").headers["x-triage-cache"] == "hit"


def test_only_deterministic_requests_are_cached(cached_gateway: str) -> None:
    with sdk(cached_gateway) as client:
        text = unique("random please")
        assert ask(client, text, temperature=0.7).headers["x-triage-cache"] == "bypass"
        assert ask(client, text, temperature=0.7).headers["x-triage-cache"] == "bypass"
        ask(client, text, model="creative", temperature=0.7)
        assert ask(client, text, model="creative", temperature=0.7).headers["x-triage-cache"] == "hit"


def test_key_sensitivity_end_to_end(cached_gateway: str) -> None:
    with sdk(cached_gateway) as client:
        text = unique("sensitive")
        ask(client, text, max_tokens=5)
        assert ask(client, text, max_tokens=6).headers["x-triage-cache"] == "miss"
        assert ask(client, text, max_tokens=5, user="someone").headers["x-triage-cache"] == "hit"
        assert ask(client, text, model="cheap", max_tokens=5).headers["x-triage-cache"] == "miss"


def test_ttl_expiry(cached_gateway: str) -> None:
    with sdk(cached_gateway) as client:
        text = unique("expire me")
        ask(client, text, model="short-lived")
        assert ask(client, text, model="short-lived").headers["x-triage-cache"] == "hit"
        time.sleep(1.3)
        assert ask(client, text, model="short-lived").headers["x-triage-cache"] == "miss"


def test_cache_control_headers(cached_gateway: str) -> None:
    with sdk(cached_gateway) as client:
        text = unique("headers")
        nostore = ask(client, text, extra_headers={"Cache-Control": "no-store"})
        assert nostore.headers["x-triage-cache"] == "miss"
        assert ask(client, text).headers["x-triage-cache"] == "miss", "no-store did not store"
        assert ask(client, text, extra_headers={"Cache-Control": "no-cache"}).headers["x-triage-cache"] == "bypass"
        assert ask(client, text).headers["x-triage-cache"] == "hit"
        time.sleep(1.1)
        assert ask(client, text, extra_headers={"Cache-Control": "max-age=1"}).headers["x-triage-cache"] == "miss"
        assert ask(client, text, extra_headers={"Cache-Control": "max-age=60"}).headers["x-triage-cache"] == "hit"


def test_redis_killed_mid_run_every_request_still_succeeds(sim_url: str, tmp_path: Path) -> None:
    port = procs.free_port()
    with (
        procs.redis_server(tmp_path, port=port) as (redis_url, redis_process),
        procs.gateway(cache_config(sim_url, redis_url), tmp_path) as url,
        sdk(url) as client,
    ):
        text = unique("survive")
        ask(client, text)
        assert ask(client, text).headers["x-triage-cache"] == "hit"
        procs.stop(redis_process)
        statuses = [ask(client, unique(f"down {i}")).headers["x-triage-cache"] for i in range(10)]
        assert set(statuses) <= {"bypass", "miss"} and "bypass" in statuses
        assert ask(client, text).parse().choices[0].message.content  # served by the upstream
        with procs.redis_server(tmp_path, port=port):
            time.sleep(0.3)  # past retry_interval_s: the gateway probes Redis again
            again = unique("back")
            ask(client, again)
            ask(client, again)
            assert ask(client, again).headers["x-triage-cache"] == "hit"
