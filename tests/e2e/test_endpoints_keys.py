"""Keys, limits, budgets, errors and tools on /v1/responses, /v1/messages, /v1/completions, /v1/embeddings.

One keyed gateway process (auth.mode: keys) on the simulator, driven by the official
``openai`` and ``anthropic`` SDKs; Anthropic clients authenticate with ``x-api-key``
or a bearer token, and get Anthropic-shaped errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import openai
import pytest

from gateway.local import processes as procs
from tests.conftest import tier
from tests.e2e.test_security import ENV, MASTER, admin

WEATHER = {
    "name": "get_weather",
    "description": "The weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def _config(sim_url: str) -> dict[str, Any]:
    return {
        "tiers": {
            "cheap": tier(sim_url, "sim-cheap", "relay"),
            "frontier": tier(sim_url, "sim-frontier", "relay"),
            "embed": tier(sim_url, "sim-embedding", "relay", kind="embeddings", capabilities=[]),
        },
        "profiles": {"auto": {"router": "heuristic", "frontier_share": 0.3}},
        "auth": {"mode": "keys", "master_key_env": "TRIAGE_MASTER_KEY"},
    }


@pytest.fixture(scope="module")
def url(sim_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with procs.gateway(_config(sim_url), tmp_path_factory.mktemp("endpoints-keys"), ENV) as gateway:
        yield gateway


def _key(url: str, **limits: Any) -> str:
    created = admin(url, "POST", name=f"k{len(limits)}{sorted(limits)}", **limits)
    assert created.status_code in (200, 201), created.text
    return str(created.json()["key"])


def test_messages_take_x_api_key_or_bearer_and_refuse_anything_else(url: str) -> None:
    key = _key(url)
    for sdk in (
        anthropic.Anthropic(base_url=url, api_key=key, max_retries=0),
        anthropic.Anthropic(base_url=url, auth_token=key, max_retries=0),
    ):
        with sdk:
            message = sdk.messages.create(model="auto", max_tokens=20, messages=[{"role": "user", "content": "hi"}])
            assert message.content[0].type == "text"
    with (
        anthropic.Anthropic(base_url=url, api_key="tr-not-a-key", max_retries=0) as stranger,
        pytest.raises(anthropic.AuthenticationError) as caught,
    ):
        stranger.messages.create(model="auto", max_tokens=20, messages=[{"role": "user", "content": "hi"}])
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error" and body["error"]["type"] == "authentication_error"


def test_messages_errors_are_anthropic_shaped(url: str) -> None:
    response = httpx.post(
        f"{url}/v1/messages",
        headers={"x-api-key": _key(url), "anthropic-version": "2023-06-01"},
        json={"model": "auto", "messages": [{"role": "user", "content": "no max_tokens"}]},
    )
    assert response.status_code == 400
    error = response.json()
    assert error["type"] == "error" and error["error"]["type"] == "invalid_request_error"
    assert "max_tokens" in error["error"]["message"]


def test_messages_tool_use_round_trip(url: str) -> None:
    with anthropic.Anthropic(base_url=url, api_key=_key(url), max_retries=0) as sdk:
        ask = [{"role": "user", "content": "What's the weather in Paris? Use the tool."}]
        first = sdk.messages.create(
            model="cheap", max_tokens=100, tools=[WEATHER], tool_choice={"type": "any"}, messages=ask
        )
        assert first.stop_reason == "tool_use"
        use = next(block for block in first.content if block.type == "tool_use")
        assert use.name == "get_weather" and isinstance(use.input, dict)
        follow = [
            *ask,
            {"role": "assistant", "content": [block.model_dump() for block in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny, 21C"}]},
        ]
        second = sdk.messages.create(model="cheap", max_tokens=60, tools=[WEATHER], messages=follow)
        assert second.stop_reason in ("end_turn", "max_tokens") and second.content[0].type == "text"


def test_a_key_is_held_to_its_tiers_on_every_endpoint(url: str) -> None:
    key = _key(url, tiers=["cheap"])
    with openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0) as sdk:
        with pytest.raises(openai.PermissionDeniedError):
            sdk.responses.create(model="frontier", input="hi")
        with pytest.raises(openai.PermissionDeniedError):
            sdk.completions.create(model="frontier", prompt="hi", max_tokens=4)
        with pytest.raises(openai.PermissionDeniedError):
            sdk.embeddings.create(model="embed", input="hi")
        assert sdk.responses.create(model="cheap", input="hi").output_text


def test_rate_limits_count_every_endpoint(url: str) -> None:
    key = _key(url, rpm=3)
    with openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0) as sdk:
        sdk.responses.create(model="cheap", input="one")
        sdk.completions.create(model="cheap", prompt="two", max_tokens=4)
        sdk.embeddings.create(model="embed", input="three")
        with pytest.raises(openai.RateLimitError):
            sdk.responses.create(model="cheap", input="four")
    with (
        anthropic.Anthropic(base_url=url, api_key=key, max_retries=0) as claude,
        pytest.raises(anthropic.RateLimitError) as caught,
    ):
        claude.messages.create(model="cheap", max_tokens=10, messages=[{"role": "user", "content": "five"}])
    assert caught.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]


def test_a_key_budget_is_spent_by_responses_and_embeddings(url: str) -> None:
    key = _key(url, budget_usd=0.000001)
    with openai.OpenAI(base_url=f"{url}/v1", api_key=key, max_retries=0) as sdk:
        for _ in range(40):
            try:
                sdk.responses.create(model="frontier", input="Spend the budget " * 20, max_output_tokens=200)
            except openai.RateLimitError as exc:
                assert "budget" in exc.message
                break
        else:
            pytest.fail("a tiny budget was never exhausted")


def test_responses_refuse_previous_response_id_and_cache_like_chat(url: str) -> None:
    with openai.OpenAI(base_url=f"{url}/v1", api_key=_key(url), max_retries=0) as sdk:
        with pytest.raises(openai.BadRequestError) as caught:
            sdk.responses.create(model="cheap", input="hi", previous_response_id="resp_123")
        assert caught.value.code == "unsupported_feature" and "previous_response_id" in caught.value.message
        first = sdk.responses.with_raw_response.create(model="cheap", input="cache me", temperature=0)
        again = sdk.responses.with_raw_response.create(model="cheap", input="cache me", temperature=0)
        assert again.headers["x-triage-cache"] == "hit"
        assert again.parse().output_text == first.parse().output_text


def test_responses_function_calls_come_back_as_items(url: str) -> None:
    tool = {"type": "function", "name": "get_weather", "parameters": WEATHER["input_schema"], "strict": False}
    with openai.OpenAI(base_url=f"{url}/v1", api_key=_key(url), max_retries=0) as sdk:
        response = sdk.responses.create(
            model="cheap",
            input="Weather in Oslo?",
            tools=[tool],
            tool_choice="required",  # type: ignore[list-item]
        )
    calls = [item for item in response.output if item.type == "function_call"]
    assert calls and calls[0].name == "get_weather" and isinstance(json.loads(calls[0].arguments), dict)


def test_every_endpoint_is_counted_with_its_label(url: str) -> None:
    metrics = httpx.get(f"{url}/metrics", headers={"Authorization": f"Bearer {MASTER}"}).text
    for endpoint in ("responses", "messages", "completions", "embeddings"):
        assert f'endpoint="{endpoint}"' in metrics, endpoint
