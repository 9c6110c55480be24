"""/v1/completions and /v1/embeddings through the gateway, with the official openai SDK, on both transports."""

from __future__ import annotations

import base64
import struct

import httpx
import openai
import pytest


def test_a_legacy_completion_is_routed_and_relayed_as_a_completion(client: openai.OpenAI) -> None:
    raw = client.completions.with_raw_response.create(model="auto", prompt="Say hello to the world", max_tokens=12)
    completion = raw.parse()
    assert completion.object == "text_completion"
    assert completion.choices[0].text and completion.choices[0].finish_reason in ("stop", "length")
    assert completion.usage is not None and completion.usage.prompt_tokens > 0
    assert raw.headers["x-triage-tier"] in ("cheap", "frontier")
    assert float(raw.headers["x-triage-score"]) >= 0.0
    assert float(raw.headers["x-triage-cost-usd"]) > 0.0


def test_a_streamed_legacy_completion_arrives_as_text_completion_chunks(client: openai.OpenAI) -> None:
    texts: list[str] = []
    finishes: list[str | None] = []
    with client.completions.create(model="cheap", prompt="Count to five", max_tokens=16, stream=True) as stream:
        for chunk in stream:
            assert chunk.object == "text_completion"
            for choice in chunk.choices:
                texts.append(choice.text)
                finishes.append(choice.finish_reason)
    assert "".join(texts).strip()
    assert finishes[-1] in ("stop", "length") and all(f is None for f in finishes[:-1])


def test_several_prompts_get_a_choice_each(client: openai.OpenAI) -> None:
    completion = client.completions.create(model="cheap", prompt=["first prompt", "second prompt"], max_tokens=8)
    assert sorted(choice.index for choice in completion.choices) == [0, 1]


def test_a_cached_completion_replays_as_a_completion(client: openai.OpenAI) -> None:
    prompt = "Replay me as a completion, please"
    first = client.completions.with_raw_response.create(model="cheap", prompt=prompt, max_tokens=8, temperature=0)
    again = client.completions.with_raw_response.create(model="cheap", prompt=prompt, max_tokens=8, temperature=0)
    assert again.headers["x-triage-cache"] == "hit"
    assert again.parse().choices[0].text == first.parse().choices[0].text
    chat = client.chat.completions.with_raw_response.create(
        model="cheap", messages=[{"role": "user", "content": prompt}], max_tokens=8, temperature=0
    )
    assert chat.headers["x-triage-cache"] != "hit"  # a completion never answers a chat request
    streamed = client.completions.create(model="cheap", prompt=prompt, max_tokens=8, temperature=0, stream=True)
    assert "".join(c.choices[0].text for c in streamed if c.choices) == first.parse().choices[0].text


def test_a_tier_without_the_completions_capability_is_a_clear_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model="chat-only", prompt="hello", max_tokens=4)
    assert caught.value.code == "unsupported_feature"
    assert "completions" in caught.value.message


def test_token_id_prompts_are_refused_with_a_400(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model="cheap", prompt=[1, 2, 3], max_tokens=4)
    assert caught.value.code == "unsupported_feature"


def test_embeddings_are_served_by_the_embeddings_tier_and_cached(client: openai.OpenAI) -> None:
    raw = client.embeddings.with_raw_response.create(model="embed", input=["alpha", "beta"], dimensions=32)
    result = raw.parse()
    assert [item.index for item in result.data] == [0, 1]
    assert all(len(item.embedding) == 32 for item in result.data)
    assert result.usage.prompt_tokens > 0
    assert raw.headers["x-triage-tier"] == "embed" and "x-triage-score" not in raw.headers
    again = client.embeddings.with_raw_response.create(model="embed", input=["alpha", "beta"], dimensions=32)
    assert again.headers["x-triage-cache"] == "hit"
    assert again.parse().data[0].embedding == result.data[0].embedding


def test_base64_embeddings_pass_through(gateway_url: str, client: openai.OpenAI) -> None:
    floats = client.embeddings.create(model="embed", input="gamma", encoding_format="float").data[0].embedding
    response = httpx.post(
        f"{gateway_url}/v1/embeddings",
        json={"model": "embed", "input": "gamma", "encoding_format": "base64"},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    packed = base64.b64decode(response.json()["data"][0]["embedding"])
    decoded = struct.unpack(f"<{len(packed) // 4}f", packed)
    assert decoded == pytest.approx(floats, abs=1e-6)


def test_embeddings_and_chat_tiers_do_not_mix(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="cheap", input="hello")
    assert "not an embeddings tier" in caught.value.message
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model="embed", messages=[{"role": "user", "content": "hi"}])
    assert "/v1/embeddings" in caught.value.message


def test_models_lists_the_embeddings_tier(client: openai.OpenAI) -> None:
    assert "embed" in {model.id for model in client.models.list()}


def test_requests_are_counted_per_endpoint(gateway_url: str, client: openai.OpenAI) -> None:
    client.embeddings.create(model="embed", input="count me")
    client.completions.create(model="cheap", prompt="count me too", max_tokens=4)
    metrics = httpx.get(f"{gateway_url}/metrics", timeout=10).text
    assert 'endpoint="embeddings"' in metrics and 'endpoint="completions"' in metrics
