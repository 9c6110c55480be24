"""End to end: real simulator, real ``triage serve``, the official openai SDK as the client.

Every test runs against both transports (relay and litellm) through ``gateway_url``.
"""

from __future__ import annotations

import json

import httpx
import openai
import pytest

HELLO = [{"role": "user", "content": "Say hello to the routing gateway."}]


def test_non_streaming_completion_routes_and_prices(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="auto", messages=HELLO)
    completion = raw.parse()
    assert completion.choices[0].message.content
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.completion_tokens > 0
    headers = raw.headers
    assert headers["x-triage-tier"] in {"cheap", "frontier"}
    assert headers["x-triage-model"] == f"openai/sim-{headers['x-triage-tier']}"
    assert 0.0 <= float(headers["x-triage-score"]) <= 1.0
    assert headers["x-triage-request-id"].startswith("req_")
    expected = {"cheap": (0.10, 0.40), "frontier": (2.50, 10.00)}[headers["x-triage-tier"]]
    cost = (completion.usage.prompt_tokens * expected[0] + completion.usage.completion_tokens * expected[1]) / 1e6
    assert float(headers["x-triage-cost-usd"]) == pytest.approx(cost, rel=1e-6)


def test_profiles_route_by_calibrated_threshold(client: openai.OpenAI) -> None:
    prompts = [
        "Hi",
        "What is the capital of France?",
        "Prove step by step why merge sort is O(n log n), then compare it with quicksort.",
        "```python\ndef f(xs):\n    return sorted(xs)\n```\nExplain why this is correct and solve 3x + 7 = 22.",
    ]
    for text in prompts:
        raw = client.chat.completions.with_raw_response.create(
            model="auto", messages=[{"role": "user", "content": text}]
        )
        score, threshold = float(raw.headers["x-triage-score"]), _threshold(raw.headers["x-triage-reason"])
        assert raw.headers["x-triage-tier"] == ("frontier" if score >= threshold else "cheap")
        content = raw.parse().choices[0].message.content
        assert content.startswith(f"[sim-{raw.headers['x-triage-tier']}]")
    everything = client.chat.completions.with_raw_response.create(model="all-frontier", messages=HELLO)
    assert everything.headers["x-triage-tier"] == "frontier"
    nothing = client.chat.completions.with_raw_response.create(model="all-cheap", messages=HELLO)
    assert nothing.headers["x-triage-tier"] == "cheap"


def _threshold(reason: str) -> float:
    # "profile auto: score 0.199 < threshold 0.373"
    return float(reason.split("threshold ")[1].split(";")[0])


def test_pinned_tier(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="frontier", messages=HELLO)
    assert raw.headers["x-triage-tier"] == "frontier"
    assert "pinned" in raw.headers["x-triage-reason"]


def test_streaming_reassembles_and_reports_usage(client: openai.OpenAI) -> None:
    whole = client.chat.completions.create(model="cheap", messages=HELLO)
    stream = client.chat.completions.create(
        model="cheap", messages=HELLO, stream=True, stream_options={"include_usage": True}
    )
    text, usage, finish = "", None, None
    for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage is not None:
            usage = chunk.usage
    assert text == whole.choices[0].message.content
    assert finish == "stop"
    assert usage is not None and usage.completion_tokens == whole.usage.completion_tokens  # type: ignore[union-attr]


def test_streaming_without_include_usage_ends_with_done(gateway_url: str) -> None:
    body = {"model": "cheap", "messages": HELLO, "stream": True}
    with httpx.stream("POST", f"{gateway_url}/v1/chat/completions", json=body, timeout=30) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["x-triage-tier"] == "cheap"
        events = [line[6:] for line in response.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" for c in chunks)


def test_tool_call_round_trip(client: openai.OpenAI) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "get_weather",
                "description": "Weather for a city",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            },
        }
    ]
    messages: list[dict[str, object]] = [{"role": "user", "content": "What's the weather in Paris?"}]
    first = client.chat.completions.create(model="cheap", messages=messages, tools=tools)  # type: ignore[arg-type]
    call = first.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert first.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert "city" in json.loads(call.function.arguments)  # type: ignore[union-attr]
    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": '{"temp_c": 18}'},
    ]
    second = client.chat.completions.create(model="cheap", messages=messages, tools=tools)  # type: ignore[arg-type]
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content


def test_streamed_tool_call(client: openai.OpenAI) -> None:
    tools = [
        {
            "type": "function",
            "function": {
                "name": "lookup",
                "parameters": {"type": "object", "properties": {"q": {"type": "string"}}, "required": ["q"]},
            },
        }
    ]
    stream = client.chat.completions.create(
        model="cheap",
        messages=[{"role": "user", "content": "look it up"}],
        tools=tools,
        stream=True,  # type: ignore[arg-type]
    )
    name, arguments = "", ""
    for chunk in stream:
        for call in (chunk.choices[0].delta.tool_calls or []) if chunk.choices else []:
            name += call.function.name or "" if call.function else ""
            arguments += call.function.arguments or "" if call.function else ""
    assert name == "lookup"
    assert "q" in json.loads(arguments)


def test_models_list(client: openai.OpenAI) -> None:
    ids = {model.id for model in client.models.list()}
    assert {"auto", "all-frontier", "cheap", "frontier"} <= ids


def test_unknown_model_is_404_in_openai_shape(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-17-ultra", messages=HELLO)
    error = caught.value.body
    assert isinstance(error, dict)
    assert error["code"] == "model_not_found" and error["type"] == "invalid_request_error"
    assert error["param"] == "model" and "gpt-17-ultra" in error["message"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        (b'{"model": "auto", "messages": [', None),
        (b"[1, 2]", None),
        (b'{"model": "auto"}', "messages"),
        (b'{"model": "auto", "messages": []}', "messages"),
        (b'{"model": "auto", "messages": [{"role": "wizard", "content": "x"}]}', "messages.0.role"),
        (b'{"model": "auto", "messages": [{"role": "user", "content": "x"}], "temperature": "hot"}', "temperature"),
        (b'{"model": "auto", "messages": [{"role": "user", "content": "x"}], "n": 0}', "n"),
    ],
)
def test_malformed_body_is_400_in_openai_shape(gateway_url: str, body: bytes, param: str | None) -> None:
    response = httpx.post(
        f"{gateway_url}/v1/chat/completions", content=body, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert error["message"]


def test_body_too_large_is_413(gateway_url: str) -> None:
    big = "x" * 70000
    response = httpx.post(
        f"{gateway_url}/v1/chat/completions", json={"model": "auto", "messages": [{"role": "user", "content": big}]}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_unknown_path_is_404_in_openai_shape(gateway_url: str) -> None:
    response = httpx.get(f"{gateway_url}/v1/nothing-here")
    assert response.status_code == 404
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


def test_health_and_readiness(gateway_url: str) -> None:
    assert httpx.get(f"{gateway_url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{gateway_url}/readyz").json()["status"] == "ready"
