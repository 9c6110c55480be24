"""Metrics are exact: after a known sequence of requests, the counters equal what was sent."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.local import processes as procs
from tests.conftest import e2e_config

PRICES = {"cheap": (0.10, 0.40), "frontier": (2.50, 10.00), "flaky": (0.10, 0.40), "dead": (2.50, 10.00)}


@pytest.fixture(scope="module")
def gateway(sim_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with procs.gateway(e2e_config(sim_url, "relay"), tmp_path_factory.mktemp("metrics")) as url:
        yield url


def scrape(url: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = httpx.get(f"{url}/metrics").text
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def total(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return sum(v for (n, ls), v in samples.items() if n == name and labels.items() <= dict(ls).items())


def cost(tier: str, usage: Any) -> float:
    price_in, price_out = PRICES[tier]
    return (usage.prompt_tokens * price_in + usage.completion_tokens * price_out) / 1e6


def test_counters_equal_what_was_sent(gateway: str) -> None:
    before = scrape(gateway)
    sent: dict[str, list[Any]] = {"cheap": [], "frontier": []}
    with openai.OpenAI(base_url=f"{gateway}/v1", api_key="metrics", max_retries=0) as client:
        for i in range(3):
            reply = client.chat.completions.create(model="cheap", messages=[{"role": "user", "content": f"c{i}"}])
            sent["cheap"].append(reply.usage)
        for i in range(2):
            stream = client.chat.completions.create(
                model="frontier",
                messages=[{"role": "user", "content": f"f{i} " * 20}],
                stream=True,
                stream_options={"include_usage": True},
            )
            sent["frontier"].append([c.usage for c in stream if c.usage][-1])
        # no include_usage: the gateway still asks upstream for usage, and charges it
        quiet = client.chat.completions.create(
            model="frontier", messages=[{"role": "user", "content": "q"}], stream=True
        )
        assert not [c for c in quiet if c.usage]
        sent["frontier"].append(
            client.chat.completions.create(model="frontier", messages=[{"role": "user", "content": "q"}]).usage
        )
    after = scrape(gateway)

    def delta(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    for tier, usages in sent.items():
        model = f"openai/sim-{tier}"
        prompt = sum(u.prompt_tokens for u in usages) + (sent[tier][-1].prompt_tokens if tier == "frontier" else 0)
        completion = sum(u.completion_tokens for u in usages) + (
            sent[tier][-1].completion_tokens if tier == "frontier" else 0
        )
        assert delta("triage_tokens_total", model=model, direction="input") == prompt
        assert delta("triage_tokens_total", model=model, direction="output") == completion
        spent = sum(cost(tier, u) for u in usages) + (cost(tier, sent[tier][-1]) if tier == "frontier" else 0)
        assert delta("triage_cost_usd_total", tier=tier, model=model) == pytest.approx(spent, rel=1e-9)
    cheap_savings = sum(cost("frontier", u) - cost("cheap", u) for u in sent["cheap"])
    assert delta("triage_savings_usd_total", tier="cheap") == pytest.approx(cheap_savings, rel=1e-9)
    assert delta("triage_savings_usd_total", tier="frontier") == pytest.approx(0.0, abs=1e-12)
    assert delta("triage_requests_total", profile="cheap", tier="cheap", status_class="2xx") == 3
    assert delta("triage_requests_total", profile="frontier", tier="frontier", status_class="2xx") == 4
    assert delta("triage_time_to_first_token_seconds_count", tier="frontier") == 3


def test_cache_hits_cost_nothing_and_count_savings(gateway: str) -> None:
    before = scrape(gateway)
    body = {"model": "cheap", "temperature": 0, "messages": [{"role": "user", "content": "cache me for metrics"}]}
    first = httpx.post(f"{gateway}/v1/chat/completions", json=body)
    second = httpx.post(f"{gateway}/v1/chat/completions", json=body)
    assert second.headers["x-triage-cache"] == "hit"
    after = scrape(gateway)
    usage = type("U", (), first.json()["usage"])
    assert (
        total(after, "triage_cache_requests_total", result="hit")
        - total(before, "triage_cache_requests_total", result="hit")
        == 1
    )
    saved = total(after, "triage_cache_saved_usd_total") - total(before, "triage_cache_saved_usd_total")
    assert saved == pytest.approx(cost("cheap", usage), rel=1e-9)
    hit_savings = total(after, "triage_savings_usd_total", tier="cache") - total(
        before, "triage_savings_usd_total", tier="cache"
    )
    assert hit_savings == pytest.approx(cost("frontier", usage), rel=1e-9)
    spent = total(after, "triage_cost_usd_total", tier="cheap") - total(before, "triage_cost_usd_total", tier="cheap")
    assert spent == pytest.approx(cost("cheap", usage), rel=1e-9), "only the miss was charged"


def test_retries_fallbacks_errors_and_decisions_are_counted(gateway: str) -> None:
    before = scrape(gateway)
    with openai.OpenAI(base_url=f"{gateway}/v1", api_key="metrics", max_retries=0) as client:
        fallback = client.chat.completions.with_raw_response.create(
            model="dead-frontier", messages=[{"role": "user", "content": "hello"}]
        )
        assert fallback.headers["x-triage-tier"] == "cheap"
        client.chat.completions.create(model="auto", messages=[{"role": "user", "content": "route me"}])
    after = scrape(gateway)

    def delta(name: str, **labels: str) -> float:
        return total(after, name, **labels) - total(before, name, **labels)

    assert delta("triage_fallbacks_total", from_tier="dead", to_tier="cheap") == 1
    assert delta("triage_upstream_errors_total", tier="dead", kind="server") == 2  # max_retries 1: two attempts
    assert delta("triage_upstream_retries_total", tier="dead") == 1
    assert delta("triage_route_decisions_total", profile="auto") == 1
    assert (
        delta("triage_route_decisions_total", profile="dead-frontier", tier="dead", reason="score_above_threshold") == 1
    )
    assert delta("triage_router_score_count", router="heuristic") == 2
    assert total(after, "triage_frontier_share_target", profile="auto") == 0.3
    assert total(after, "triage_cache_up", backend="memory") == 1


def test_a_stream_cut_mid_way_is_charged_for_what_was_produced(gateway: str) -> None:
    before = scrape(gateway)
    with (
        openai.OpenAI(base_url=f"{gateway}/v1", api_key="metrics", max_retries=0) as client,
        pytest.raises(openai.APIError),
    ):
        for _ in client.chat.completions.create(
            model="resetter", messages=[{"role": "user", "content": "x"}], stream=True
        ):
            pass
    after = scrape(gateway)
    produced = total(after, "triage_tokens_total", model="openai/sim-cheap", direction="output") - total(
        before, "triage_tokens_total", model="openai/sim-cheap", direction="output"
    )
    assert produced >= 3, "the chunks sent before the reset are counted (tiktoken)"
    assert (
        total(after, "triage_stream_interruptions_total", tier="resetter")
        - total(before, "triage_stream_interruptions_total", tier="resetter")
        == 1
    )
    assert total(after, "triage_cost_usd_total", tier="resetter") > total(
        before, "triage_cost_usd_total", tier="resetter"
    )


def test_metric_labels_never_carry_prompts_or_keys(gateway: str) -> None:
    secret = "very-secret-prompt-text"
    httpx.post(
        f"{gateway}/v1/chat/completions",
        headers={"Authorization": "Bearer sk-secret-key"},
        json={"model": "cheap", "messages": [{"role": "user", "content": secret}]},
    )
    httpx.post(f"{gateway}/v1/chat/completions", json={"model": secret, "messages": [{"role": "user", "content": "x"}]})
    text = httpx.get(f"{gateway}/metrics").text
    assert secret not in text and "sk-secret-key" not in text
