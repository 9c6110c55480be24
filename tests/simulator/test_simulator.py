"""The upstream simulator, driven over real HTTP by httpx and the official openai SDK."""

from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any, cast

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

from gateway.simulator.faults import FaultSpec, parse_flag, parse_header
from gateway.simulator.server import SimulatorConfig, SimulatorServer

PROMPT = [{"role": "user", "content": "What is the capital of France?"}]
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
                "detailed": {"type": "boolean"},
            },
            "required": ["city", "unit", "days", "detailed"],
        },
    },
}
TIME_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}, "required": []}},
}
SDK_PROMPT = cast(list[ChatCompletionMessageParam], PROMPT)
SDK_WEATHER, SDK_TIME = cast(ChatCompletionToolParam, WEATHER_TOOL), cast(ChatCompletionToolParam, TIME_TOOL)


def _start(*extra: str) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "gateway.simulator", "--port", "0", "--ttft-ms", "5", "--tokens-per-s", "2000"]
    proc = subprocess.Popen([*command, *extra], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("simulator listening on http://"), line
    return proc, line.split(" on ", 1)[1].strip()


def _stop(proc: subprocess.Popen[str], signum: int = signal.SIGTERM) -> int:
    proc.send_signal(signum)
    try:
        return proc.wait(timeout=10)
    finally:
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    proc, url = _start()
    try:
        yield url
    finally:
        assert _stop(proc) == 0


@pytest.fixture
def http(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as client:
        yield client


@pytest.fixture
def sdk(base_url: str) -> Iterator[openai.OpenAI]:
    with openai.OpenAI(base_url=base_url + "/v1", api_key="sk-sim", max_retries=0) as client:
        yield client


def _chat(http: httpx.Client, *, fault: str | None = None, **body: Any) -> httpx.Response:
    payload = {"model": "sim-cheap", "messages": PROMPT, **body}
    headers = {"x-sim-fault": fault} if fault else {}
    return http.post("/v1/chat/completions", json=payload, headers=headers)


def _sse(http: httpx.Client, *, fault: str | None = None, **body: Any) -> list[str]:
    """The data payloads of a streamed completion, in order."""
    payload = {"model": "sim-cheap", "messages": PROMPT, "stream": True, **body}
    headers = {"x-sim-fault": fault} if fault else {}
    with http.stream("POST", "/v1/chat/completions", json=payload, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]


def _text(events: list[str]) -> str:
    chunks = [json.loads(e) for e in events if e != "[DONE]"]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def _key() -> str:
    return uuid.uuid4().hex


# --- plain endpoints -------------------------------------------------------------------------------------------


def test_health_and_models(http: httpx.Client, sdk: openai.OpenAI) -> None:
    assert http.get("/health").status_code == 200
    listing = http.get("/v1/models").json()
    assert listing["object"] == "list"
    assert [m["id"] for m in listing["data"]] == ["sim-cheap", "sim-frontier"]
    assert all(m["object"] == "model" for m in listing["data"])
    assert [m.id for m in sdk.models.list()] == ["sim-cheap", "sim-frontier"]


def test_bad_json_is_openai_shaped_400(http: httpx.Client) -> None:
    response = http.post("/v1/chat/completions", content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == "invalid_request_error"
    assert error["param"] is None and error["code"] is None


def test_unknown_model_is_404_model_not_found(http: httpx.Client, sdk: openai.OpenAI) -> None:
    response = _chat(http, model="gpt-nope")
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
    body = _chat(http).json()
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
    first = _chat(http).json()["choices"][0]["message"]["content"]
    assert _chat(http).json()["choices"][0]["message"]["content"] == first
    other = [{"role": "user", "content": "Something else entirely"}]
    assert _chat(http, messages=other).json()["choices"][0]["message"]["content"] != first


async def test_same_seed_same_text_across_servers(http: httpx.Client) -> None:
    expected = _chat(http).json()["choices"][0]["message"]["content"]
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
        body = _chat(http, **limit).json()
        assert body["choices"][0]["finish_reason"] == "length"
        assert body["usage"]["completion_tokens"] == 3
        assert len(body["choices"][0]["message"]["content"].split()) == 3


def test_n_choices(http: httpx.Client) -> None:
    body = _chat(http, n=3, max_tokens=4).json()
    assert [c["index"] for c in body["choices"]] == [0, 1, 2]
    assert body["usage"]["completion_tokens"] == 12
    assert (
        body["choices"][0]["message"]["content"] == _chat(http, max_tokens=4).json()["choices"][0]["message"]["content"]
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
    events = _sse(http)
    assert events[-1] == "[DONE]"
    chunks = [json.loads(e) for e in events[:-1]]
    assert all(c["object"] == "chat.completion.chunk" and c["id"] == chunks[0]["id"] for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert chunks[-1]["choices"][0]["delta"] == {} and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all("usage" not in c for c in chunks)
    assert _text(events) == _chat(http).json()["choices"][0]["message"]["content"]


def test_stream_include_usage(http: httpx.Client) -> None:
    events = _sse(http, stream_options={"include_usage": True}, max_tokens=5)
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
    call = _chat(http, tools=[WEATHER_TOOL, TIME_TOOL], tool_choice=named).json()["choices"][0]["message"]
    assert call["tool_calls"][0]["function"]["name"] == "get_time"
    assert json.loads(call["tool_calls"][0]["function"]["arguments"]) == {}
    plain = _chat(http, tools=[WEATHER_TOOL], tool_choice="none").json()["choices"][0]
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
    choice = _chat(http, messages=messages, tools=[WEATHER_TOOL]).json()["choices"][0]
    assert choice["finish_reason"] == "stop"
    assert "tool result" in choice["message"]["content"]


# --- faults ----------------------------------------------------------------------------------------------------


def test_fault_429_with_retry_after(http: httpx.Client) -> None:
    response = _chat(http, fault="429")
    assert response.status_code == 429 and response.headers["retry-after"] == "0"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert _chat(http, fault="429;retry_after=3").headers["retry-after"] == "3"


@pytest.mark.parametrize("status", [500, 503])
def test_fault_server_errors(http: httpx.Client, status: int) -> None:
    response = _chat(http, fault=str(status))
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == "server_error" and set(error) == {"message", "type", "param", "code"}
    assert _chat(http).status_code == 200  # the connection is still good


def test_fault_timeout(base_url: str, http: httpx.Client) -> None:
    with httpx.Client(base_url=base_url, timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
        _chat(client, fault="timeout")
    assert http.get("/health").status_code == 200


def test_fault_reset(http: httpx.Client) -> None:
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        _chat(http, fault="reset")
    assert _chat(http).status_code == 200


def test_fault_reset_mid_stream(http: httpx.Client) -> None:
    payload = {"model": "sim-cheap", "messages": PROMPT, "stream": True}
    events: list[dict[str, Any]] = []
    headers = {"x-sim-fault": "reset;after=2"}
    with (
        pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)),
        http.stream("POST", "/v1/chat/completions", json=payload, headers=headers) as response,
    ):
        assert response.status_code == 200
        events.extend(json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: "))
    contents = [e for e in events if e["choices"][0]["delta"].get("content")]
    assert len(contents) == 2 and events[0]["choices"][0]["delta"]["role"] == "assistant"


def test_fault_truncate_stream(http: httpx.Client) -> None:
    events = _sse(http, fault="truncate;after=4")
    assert "[DONE]" not in events
    chunks = [json.loads(e) for e in events]
    assert len(chunks) == 5  # role chunk + 4 content chunks
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)


def test_fault_truncate_non_stream(http: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        _chat(http, fault="truncate")


def test_fault_malformed(http: httpx.Client, sdk: openai.OpenAI) -> None:
    response = _chat(http, fault="malformed")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    events = _sse(http, fault="malformed;after=1")
    broken = []
    for event in events[:-1]:
        try:
            json.loads(event)
        except json.JSONDecodeError:
            broken.append(event)
    assert len(broken) == 1 and events[-1] == "[DONE]"


def test_fault_first_n_then_success(http: httpx.Client) -> None:
    fault = f"500;first=2;key={_key()}"
    assert [_chat(http, fault=fault).status_code for _ in range(4)] == [500, 500, 200, 200]


def test_sdk_retries_absorb_a_burst(base_url: str) -> None:
    with openai.OpenAI(base_url=base_url + "/v1", api_key="sk-sim", max_retries=2) as client:
        completion = client.chat.completions.create(
            model="sim-cheap",
            messages=SDK_PROMPT,
            extra_headers={"x-sim-fault": f"503;first=1;key={_key()}"},
        )
    assert completion.choices[0].message.content is not None


def test_bad_fault_header_is_400(http: httpx.Client) -> None:
    response = _chat(http, fault="explode")
    assert response.status_code == 400
    assert "x-sim-fault" in response.json()["error"]["message"]


def test_fault_grammar() -> None:
    assert parse_header("429;retry_after=5, reset;rate=0.5;after=1") == (
        FaultSpec("429", retry_after="5"),
        FaultSpec("reset", rate=0.5, after=1),
    )
    assert parse_header("500;first=2;key=burst") == (FaultSpec("500", first=2, key="burst"),)
    assert parse_flag("reset=0.05;after=2") == FaultSpec("reset", rate=0.05, after=2)
    for bad in ("nope", "500;rate=2", "500;first=-1", "500;color=red", "500;rate"):
        with pytest.raises(ValueError):
            parse_header(bad)
    with pytest.raises(ValueError):
        parse_flag("500")


async def _statuses(config: SimulatorConfig, count: int) -> list[int]:
    server = SimulatorServer(config)
    port = await server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            body = {"model": "sim-cheap", "messages": PROMPT}
            return [(await client.post("/v1/chat/completions", json=body)).status_code for _ in range(count)]
    finally:
        await server.close()


async def test_server_fault_rates_are_seeded() -> None:
    config = SimulatorConfig(ttft_ms=0, tokens_per_s=100000, faults=(parse_flag("500=0.5"),))
    first = await _statuses(config, 30)
    assert await _statuses(config, 30) == first
    assert 0 < first.count(500) < 30 and set(first) == {200, 500}


async def test_close_cancels_hung_requests() -> None:
    server = SimulatorServer(SimulatorConfig())
    port = await server.start("127.0.0.1", 0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        body = {"model": "sim-cheap", "messages": PROMPT}
        request = client.post("/v1/chat/completions", json=body, headers={"x-sim-fault": "timeout"})
        pending = asyncio.ensure_future(request)
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        await server.close()
        assert time.perf_counter() - started < 1
        with pytest.raises(httpx.TransportError):
            await pending


def test_sigint_exits_cleanly() -> None:
    proc, url = _start("--log")
    assert httpx.get(url + "/health").status_code == 200
    assert _stop(proc, signal.SIGINT) == 0
