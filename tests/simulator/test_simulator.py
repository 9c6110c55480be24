"""The upstream simulator, driven over real HTTP by httpx and the official openai SDK."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import openai
import pytest

from gateway.simulator.server import SimulatorConfig, SimulatorServer
from tests.simulator.support import (
    PROMPT,
    SDK_PROMPT,
    SDK_TIME,
    SDK_WEATHER,
    TIME_TOOL,
    WEATHER_TOOL,
    chat,
    sse,
    text_of,
)


def test_health_and_models(http: httpx.Client, sdk: openai.OpenAI) -> None:
    assert http.get("/health").status_code == 200
    listing = http.get("/v1/models").json()
    assert listing["object"] == "list"
    models = ["sim-cheap", "sim-mid", "sim-frontier", "sim-reasoning", "sim-judge", "sim-embedding"]
    assert [m["id"] for m in listing["data"]] == models
    assert all(m["object"] == "model" for m in listing["data"])
    assert [m.id for m in sdk.models.list()] == models


def test_bad_json_is_openai_shaped_400(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] is None and error["code"] is None


def test_unknown_model_is_404_model_not_found(http: httpx.Client, sdk: openai.OpenAI) -> None:
    response = chat(http, model="gpt-nope")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "model_not_found"
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="gpt-nope", messages=SDK_PROMPT)


def test_unknown_path_is_404(http: httpx.Client) -> None:
    response = http.get("/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_missing_messages_is_400(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", json={"model": "sim-cheap"})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "messages"


# --- completions -----------------------------------------------------------------------------------------------


def test_completion_shape_and_usage(http: httpx.Client) -> None:
    body = chat(http).json()
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int) and body["system_fingerprint"]
    assert body["model"] == "sim-cheap"
    (choice,) = body["choices"]
    assert choice["index"] == 0 and choice["finish_reason"] == "stop" and choice["logprobs"] is None
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].startswith("[sim-cheap] ")
    usage = body["usage"]
    assert usage["prompt_tokens"] == len(PROMPT[0]["content"]) // 4 + 3
    assert usage["completion_tokens"] == 40 == len(choice["message"]["content"].split())
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]


def test_sdk_completion_and_model_tag(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(model="sim-frontier", messages=SDK_PROMPT)
    assert completion.model == "sim-frontier"
    assert completion.choices[0].message.content is not None
    assert completion.choices[0].message.content.startswith("[sim-frontier] ")
    assert completion.usage is not None and completion.usage.completion_tokens == 40


def test_deterministic_text(http: httpx.Client) -> None:
    first = chat(http).json()["choices"][0]["message"]["content"]
    assert chat(http).json()["choices"][0]["message"]["content"] == first
    other = [{"role": "user", "content": "Something else entirely"}]
    assert chat(http, messages=other).json()["choices"][0]["message"]["content"] != first


async def test_same_seed_same_text_across_servers(http: httpx.Client) -> None:
    expected = chat(http).json()["choices"][0]["message"]["content"]
    texts = {}
    for seed in (0, 1):
        server = SimulatorServer(SimulatorConfig(ttft_ms=0, tokens_per_s=100000, seed=seed))
        port = await server.start("127.0.0.1", 0)
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
                response = await client.post("/v1/chat/completions", json={"model": "sim-cheap", "messages": PROMPT})
            texts[seed] = response.json()["choices"][0]["message"]["content"]
        finally:
            await server.close()
    assert texts[0] == expected
    assert texts[1] != expected


def test_max_tokens_cuts_with_length(http: httpx.Client) -> None:
    for field in ("max_tokens", "max_completion_tokens"):
        limit: dict[str, Any] = {field: 3}
        body = chat(http, **limit).json()
        assert body["choices"][0]["finish_reason"] == "length"
        assert body["usage"]["completion_tokens"] == 3
        assert len(body["choices"][0]["message"]["content"].split()) == 3


def test_n_choices(http: httpx.Client) -> None:
    body = chat(http, n=3, max_tokens=4).json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert body["usage"]["completion_tokens"] == 12
    assert (
        body["choices"][0]["message"]["content"] == chat(http, max_tokens=4).json()["choices"][0]["message"]["content"]
    )


def test_per_request_speed_headers(http: httpx.Client) -> None:
    started = time.perf_counter()
    response = http.post(
        "/v1/chat/completions",
        json={"model": "sim-cheap", "messages": PROMPT},
        headers={"x-sim-ttft-ms": "200", "x-sim-answer-tokens": "5"},
    )
    assert time.perf_counter() - started >= 0.2
    assert response.json()["usage"]["completion_tokens"] == 5
    bad = http.post(
        "/v1/chat/completions", json={"model": "sim-cheap", "messages": PROMPT}, headers={"x-sim-ttft-ms": "x"}
    )
    assert bad.status_code == 400


# --- streaming -------------------------------------------------------------------------------------------------


def test_stream_matches_non_stream(http: httpx.Client) -> None:
    events = sse(http)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["delta"] == {} and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in c for c in chunks)
    assert text_of(events) == chat(http).json()["choices"][0]["message"]["content"]


def test_stream_include_usage(http: httpx.Client) -> None:
    events = sse(http, stream_options={"include_usage": True}, max_tokens=5)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["usage"] is None for c in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 5
    assert chunks[-2]["choices"][0]["finish_reason"] == "length"


def test_sdk_stream(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="sim-cheap",
        messages=SDK_PROMPT,
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage = "", None
    with stream:
        for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
            usage = chunk.usage or usage
    assert text.startswith("[sim-cheap] ") and len(text.split()) == 40
    assert usage is not None and usage.completion_tokens == 40


# --- tool calls ------------------------------------------------------------------------------------------------


def test_tool_call_non_stream(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(
        model="sim-cheap",
        messages=SDK_PROMPT,
        tools=[SDK_WEATHER, SDK_TIME],
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert choice.message.tool_calls is not None
    (call,) = choice.message.tool_calls
    assert call.id.startswith("call_") and call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "sample", "unit": "celsius", "days": 1, "detailed": True}


def test_tool_choice_named_and_none(http: httpx.Client) -> None:
    named = {"type": "function", "function": {"name": "get_time"}}
    call = chat(http, tools=[WEATHER_TOOL, TIME_TOOL], tool_choice=named).json()["choices"][0]["message"]
    assert call["tool_calls"][0]["function"]["name"] == "get_time"
    assert json.loads(call["tool_calls"][0]["function"]["arguments"]) == {}
    plain = chat(http, tools=[WEATHER_TOOL], tool_choice="none").json()["choices"][0]
    assert plain["finish_reason"] == "stop" and plain["message"]["content"].startswith("[sim-cheap]")


def test_tool_call_stream(sdk: openai.OpenAI) -> None:
    stream = sdk.chat.completions.create(
        model="sim-cheap",
        messages=SDK_PROMPT,
        tools=[SDK_WEATHER],
        stream=True,
    )
    names, arguments, pieces, finish = [], "", 0, None
    with stream:
        for chunk in stream:
            delta = chunk.choices[0].delta
            for call in delta.tool_calls or []:
                assert call.index == 0
                if call.function and call.function.name:
                    names.append(call.function.name)
                if call.function and call.function.arguments:
                    arguments += call.function.arguments
                    pieces += 1
            finish = chunk.choices[0].finish_reason or finish
    assert names == ["get_weather"] and finish == "tool_calls" and pieces > 1
    assert set(json.loads(arguments)) == {"city", "unit", "days", "detailed"}


def test_tool_result_gets_text_answer(http: httpx.Client) -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
    messages = [
        *PROMPT,
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
    ]
    choice = chat(http, messages=messages, tools=[WEATHER_TOOL]).json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert "tool result" in choice["message"]["content"]


# --- faults ----------------------------------------------------------------------------------------------------
