"""Ladders end to end on real processes: sticky conversations across two replicas sharing a real Redis,
a dead middle rung, reasoning rungs with drop_params. Routed by the ``ngram`` router (its scores are
far apart: an easy turn scores ~0.01, a proof ~0.98, the mid prompt below ~0.735 between the bands)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import redis

from gateway.local import processes as procs
from tests.conftest import tier

RUNGS = ("cheap", "mid", "frontier")
HARD = "Prove that there are infinitely many prime numbers, step by step."
MID = (
    "Sarah's basketball games are 4 quarters that are each 12 minutes long. In the last quarter, there was a tie "
    "so the game was extended for five minutes. How long did the entire game last?"
)
EASY = (
    "thanks!",
    "What is the capital of France?",
    "Give me three name ideas for a coffee shop.",
    "hello",
    "What's 2 + 2?",
)
TTL_S = 2.0


def sim_tier(sim_url: str, model: str, price: tuple[float, float], **extra: Any) -> dict[str, Any]:
    """A tier on one of the simulator's models that ``tests.conftest.tier`` does not price."""
    return {
        **tier(sim_url, "sim-cheap", "relay", **extra),
        "model": f"openai/{model}",
        "price": {"input_per_mtok": price[0], "output_per_mtok": price[1]},
    }


def ladder(*rungs: tuple[str, float]) -> list[dict[str, Any]]:
    return [{"tier": name, "share": share} for name, share in rungs]


def ladder_config(sim_url: str, redis_url: str | None = None) -> dict[str, Any]:
    dead = {"max_retries": 0, "extra_headers": {"x-sim-fault": "500"}}
    return {
        "tiers": {
            "cheap": tier(sim_url, "sim-cheap", "relay"),
            "mid": sim_tier(sim_url, "sim-mid", (0.6, 2.4)),
            "frontier": tier(sim_url, "sim-frontier", "relay"),
            "thinker": sim_tier(sim_url, "sim-reasoning", (5.0, 20.0), kind="reasoning", drop_params=["temperature"]),
            "thinker-raw": sim_tier(sim_url, "sim-reasoning", (5.0, 20.0), kind="reasoning", fallbacks=[]),
            "dead-mid": sim_tier(sim_url, "sim-mid", (0.6, 2.4), **dead),
            "dead-top": tier(sim_url, "sim-frontier", "relay", **dead),
        },
        "profiles": {
            "ladder": {
                "router": "ngram",
                "ladder": ladder(("cheap", 0.55), ("mid", 0.30), ("frontier", 0.15)),
                "sticky": {"ttl_s": TTL_S},
            },
            "thinking": {
                "router": "ngram",
                "ladder": ladder(("cheap", 0.5), ("mid", 0.3), ("frontier", 0.15), ("thinker", 0.05)),
            },
            "dead-middle": {
                "router": "ngram",
                "ladder": ladder(("cheap", 0.55), ("dead-mid", 0.30), ("frontier", 0.15)),
            },
            "dead-upper": {
                "router": "ngram",
                "ladder": ladder(("cheap", 0.55), ("dead-mid", 0.30), ("dead-top", 0.15)),
            },
        },
        "breaker": {"failure_threshold": 2, "cooldown_s": 60},
        "redis": {"url": redis_url},
    }


@pytest.fixture(scope="module")
def replicas(sim_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two gateway replicas on one config, sharing one real Redis."""
    config = ladder_config(sim_url, redis_url)
    with (
        procs.gateway(config, tmp_path_factory.mktemp("replica-a")) as a,
        procs.gateway(config, tmp_path_factory.mktemp("replica-b")) as b,
    ):
        yield a, b


def sdk(url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0, timeout=30)


class Conversation:
    """One conversation driven turn by turn with the openai SDK, each turn on the replica given."""

    def __init__(self, clients: tuple[openai.OpenAI, ...]) -> None:
        self.clients = clients
        self.messages: list[dict[str, str]] = [{"role": "system", "content": "You are terse."}]
        self.turns: list[tuple[str, str, str]] = []  # (tier, score, reason)

    def say(self, text: str, replica: int) -> tuple[str, str, str]:
        self.messages.append({"role": "user", "content": text})
        raw = self.clients[replica].chat.completions.with_raw_response.create(
            model="ladder",
            messages=self.messages,  # type: ignore[arg-type]
        )
        answer = raw.parse().choices[0].message.content or ""
        self.messages.append({"role": "assistant", "content": answer})
        turn = (raw.headers["x-triage-tier"], raw.headers["x-triage-score"], raw.headers["x-triage-reason"])
        self.turns.append(turn)
        return turn


def test_a_sticky_conversation_never_steps_down_across_two_replicas_until_ttl(
    replicas: tuple[str, str], redis_url: str
) -> None:
    clients = tuple(sdk(url) for url in replicas)
    talk = Conversation(clients)
    assert talk.say(EASY[1], 0)[0] == "cheap"  # an easy opening: the bottom rung
    assert talk.say(HARD, 1)[0] == "frontier"  # a proof: the top rung, on the other replica
    for i, text in enumerate(EASY * 2):
        tier, score, reason = talk.say(text, i % 2)  # alternate replicas, turn by turn
        assert tier == "frontier", (text, score, reason)
    ranks = [RUNGS.index(t) for t, _, _ in talk.turns]
    assert ranks == sorted(ranks)  # never a step down
    held = [(score, reason) for tier, score, reason in talk.turns if "sticky" in reason]
    assert len(held) >= 6, talk.turns  # easy turns the score alone would have sent lower
    for score, reason in held:
        assert float(score) < 0.7 and reason.endswith("sticky: conversation already on frontier")
    keys = redis.Redis.from_url(redis_url).keys("triage:sticky:ladder:*")
    assert len(keys) == 1 and 0 < redis.Redis.from_url(redis_url).pttl(keys[0]) <= TTL_S * 1000
    time.sleep(TTL_S + 0.5)  # ttl_s after the last turn: the conversation may step down again
    tier, _, reason = talk.say(EASY[2], 1)
    assert tier == "cheap" and "sticky" not in reason
    assert talk.say(EASY[3], 0)[0] == "cheap"  # and its floor is the bottom rung now
    for url in replicas:
        metrics = httpx.get(f"{url}/metrics").text
        assert 'triage_route_decisions_total{profile="ladder",reason="sticky",tier="frontier"}' in metrics
    for client in clients:
        client.close()


def test_a_conversation_id_header_names_the_conversation(replicas: tuple[str, str]) -> None:
    headers = {"x-triage-conversation": f"conv-{time.time_ns()}"}
    hard = httpx.post(
        f"{replicas[0]}/v1/chat/completions",
        headers=headers,
        json={"model": "ladder", "messages": [{"role": "user", "content": HARD}]},
    )
    assert hard.headers["x-triage-tier"] == "frontier"
    fresh = [{"role": "user", "content": EASY[4]}]  # other messages, same header: the same conversation
    held = httpx.post(
        f"{replicas[1]}/v1/chat/completions", headers=headers, json={"model": "ladder", "messages": fresh}
    )
    assert held.headers["x-triage-tier"] == "frontier" and "sticky" in held.headers["x-triage-reason"]
    alone = httpx.post(f"{replicas[1]}/v1/chat/completions", json={"model": "ladder", "messages": fresh})
    assert alone.headers["x-triage-tier"] == "cheap"


def ask(url: str, profile: str, text: str, **body: Any) -> httpx.Response:
    messages = [{"role": "user", "content": text}]
    return httpx.post(f"{url}/v1/chat/completions", json={"model": profile, "messages": messages, **body}, timeout=30)


def test_a_dead_middle_rung_sends_its_traffic_to_the_nearest_healthy_rung(replicas: tuple[str, str]) -> None:
    url = replicas[0]
    answers = [ask(url, "dead-middle", MID) for _ in range(4)]
    assert all(r.status_code == 200 and r.headers["x-triage-tier"] == "frontier" for r in answers)  # up first
    assert "breaker open on dead-mid, moved to frontier" in answers[-1].headers["x-triage-reason"]
    assert ask(url, "dead-middle", EASY[0]).headers["x-triage-tier"] == "cheap"  # the other rungs are untouched
    # nothing healthy above it either: down to the nearest healthy rung
    upper = [ask(url, "dead-upper", MID) for _ in range(4)]
    assert all(r.status_code == 200 and r.headers["x-triage-tier"] == "cheap" for r in upper)
    assert "breaker open on dead-mid, moved to cheap" in upper[-1].headers["x-triage-reason"]


def test_reasoning_effort_lands_on_the_reasoning_rung_without_its_refused_parameters(replicas: tuple[str, str]) -> None:
    with sdk(replicas[1]) as client:
        raw = client.chat.completions.with_raw_response.create(
            model="thinking",
            messages=[{"role": "user", "content": EASY[1]}],
            reasoning_effort="high",
            temperature=0.2,  # sim-reasoning refuses it, like OpenAI's reasoning models; the tier drops it
        )
        assert raw.headers["x-triage-tier"] == "thinker"
        assert "reasoning_effort set, up to the reasoning rung thinker" in raw.headers["x-triage-reason"]
        assert raw.parse().model == "sim-reasoning"
        plain = client.chat.completions.with_raw_response.create(
            model="thinking", messages=[{"role": "user", "content": EASY[1]}], temperature=0.2
        )
        assert plain.headers["x-triage-tier"] == "cheap"
        with pytest.raises(openai.BadRequestError, match="temperature"):  # without drop_params: the model's 400
            client.chat.completions.create(
                model="thinker-raw", messages=[{"role": "user", "content": EASY[1]}], temperature=0.2
            )


def test_a_ladder_config_without_redis_keeps_conversations_in_process(sim_url: str, tmp_path: Path) -> None:
    with procs.gateway(ladder_config(sim_url), tmp_path) as url, sdk(url) as client:
        messages: list[dict[str, str]] = [{"role": "user", "content": HARD}]
        tiers = []
        for text in EASY:
            raw = client.chat.completions.with_raw_response.create(model="ladder", messages=messages)  # type: ignore[arg-type]
            tiers.append(raw.headers["x-triage-tier"])
            messages += [{"role": "assistant", "content": raw.parse().choices[0].message.content or ""}]
            messages += [{"role": "user", "content": text}]
        assert tiers == ["frontier"] * len(EASY)
