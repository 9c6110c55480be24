"""The official ``openai`` SDK against the gateway: chat, streaming, tools, n, usage, errors, structured output."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from tests.clients.conftest import PROFILE, UNKNOWN_MODEL
from tests.clients.schemas import (
    QUESTION,
    SIM_MODELS,
    TAG,
    WEATHER_QUESTION,
    WEATHER_TOOL,
    Answer,
    City,
    GetWeather,
    assert_city,
)

USER = [{"role": "user", "content": QUESTION}]


@pytest.fixture(scope="module")
def sent() -> list[dict[str, Any]]:
    """The JSON bodies the SDK sent, newest last (to check what it asked the gateway for)."""
    return []


@pytest.fixture(scope="module")
def client(base_url: str, sent: list[dict[str, Any]]) -> Iterator[openai.OpenAI]:
    def record(request: httpx.Request) -> None:
        if request.content:
            sent.append(json.loads(request.content))

    http = httpx.Client(event_hooks={"request": [record]})
    with openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30, http_client=http) as sdk:
        yield sdk


def test_chat(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=PROFILE, messages=USER)
    assert isinstance(completion, ChatCompletion)
    assert completion.model in SIM_MODELS
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    assert choice.message.content and choice.message.content.startswith(TAG)


def test_request_id_is_the_x_request_id_header(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model=PROFILE, messages=USER)
    completion = raw.parse()
    assert completion._request_id
    assert completion._request_id == raw.headers["x-request-id"] == raw.headers["x-triage-request-id"]
    assert raw.headers["x-triage-tier"] in ("cheap", "frontier")
    plain = client.chat.completions.create(model=PROFILE, messages=USER)
    assert plain._request_id and plain._request_id.startswith("req_") and plain._request_id != completion._request_id


def test_stream(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model=PROFILE, messages=USER, stream=True, stream_options={"include_usage": True}
    )
    assert stream.response.headers["x-request-id"]
    chunks = list(stream)
    assert all(isinstance(chunk, ChatCompletionChunk) for chunk in chunks)
    content = [chunk for chunk in chunks if chunk.choices]
    assert len(content) > 2, "the answer arrives in several chunks"
    text = "".join(chunk.choices[0].delta.content or "" for chunk in content)
    assert text.startswith(TAG)
    assert content[-1].choices[0].finish_reason == "stop"
    usage = chunks[-1].usage
    assert not chunks[-1].choices and usage is not None, "include_usage: a last chunk with the usage and no choices"
    assert usage.completion_tokens > 0 and usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_tools_round_trip(client: openai.OpenAI) -> None:
    messages: list[Any] = [{"role": "user", "content": WEATHER_QUESTION}]
    first = client.chat.completions.create(model=PROFILE, messages=messages, tools=[WEATHER_TOOL])
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls and len(choice.message.tool_calls) == 1
    call = choice.message.tool_calls[0]
    assert call.type == "function" and call.function.name == "get_weather" and call.id
    arguments = json.loads(call.function.arguments)
    assert isinstance(arguments["city"], str)
    messages += [choice.message, {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"}]
    second = client.chat.completions.create(model=PROFILE, messages=messages, tools=[WEATHER_TOOL])
    assert second.choices[0].finish_reason == "stop"
    assert second.choices[0].message.content and not second.choices[0].message.tool_calls


def test_tools_streamed(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model=PROFILE,
        messages=[{"role": "user", "content": WEATHER_QUESTION}],
        tools=[openai.pydantic_function_tool(GetWeather, name="get_weather")],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    ) as stream:
        completion = stream.get_final_completion()
    calls = completion.choices[0].message.tool_calls
    assert calls and calls[0].function.name == "get_weather"
    assert isinstance(calls[0].function.parsed_arguments, GetWeather)


def test_strict_pydantic_tool_parse(client: openai.OpenAI, sent: list[dict[str, Any]]) -> None:
    completion = client.chat.completions.parse(
        model=PROFILE,
        messages=[{"role": "user", "content": WEATHER_QUESTION}],
        tools=[openai.pydantic_function_tool(GetWeather, name="get_weather")],
    )
    assert sent[-1]["tools"][0]["function"]["strict"] is True
    calls = completion.choices[0].message.tool_calls
    assert calls and isinstance(calls[0].function.parsed_arguments, GetWeather)
    assert calls[0].function.parsed_arguments.city


def test_n_choices(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model=PROFILE, messages=USER, n=3)
    assert [choice.index for choice in completion.choices] == [0, 1, 2]
    texts = [choice.message.content for choice in completion.choices]
    assert all(text and text.startswith(TAG) for text in texts)
    assert len(set(texts)) == 3, "each choice is its own answer"


def test_usage_and_cost(client: openai.OpenAI) -> None:
    raw = client.chat.completions.with_raw_response.create(model="cheap", messages=USER, max_tokens=16)
    completion = raw.parse()
    usage = completion.usage
    assert usage is not None and usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 16
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens
    assert raw.headers["x-triage-tier"] == "cheap"
    assert float(raw.headers["x-triage-cost-usd"]) > 0


def test_unknown_model_is_not_found_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model=UNKNOWN_MODEL, messages=USER)
    error = caught.value
    assert error.status_code == 404
    assert error.code == "model_not_found" and error.param == "model" and error.type == "invalid_request_error"
    assert UNKNOWN_MODEL in error.message
    assert error.request_id == error.response.headers["x-request-id"]


def test_bad_request_is_bad_request_error(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=PROFILE, messages=USER, temperature="hot")  # type: ignore[arg-type]
    assert caught.value.status_code == 400
    assert caught.value.param == "temperature"


def test_structured_output_parse(client: openai.OpenAI, sent: list[dict[str, Any]]) -> None:
    completion = client.chat.completions.parse(
        model=PROFILE, messages=[{"role": "user", "content": "Describe Paris."}], response_format=City
    )
    response_format = sent[-1]["response_format"]
    assert response_format["type"] == "json_schema" and response_format["json_schema"]["strict"] is True
    message = completion.choices[0].message
    assert message.refusal is None
    assert_city(message.parsed)
    assert City.model_validate_json(message.content or "") == message.parsed


def test_structured_output_streamed(client: openai.OpenAI) -> None:
    with client.chat.completions.stream(
        model=PROFILE, messages=[{"role": "user", "content": "Describe Paris."}], response_format=City
    ) as stream:
        kinds = {event.type for event in stream}
        completion = stream.get_final_completion()
    assert "content.delta" in kinds and "content.done" in kinds
    assert_city(completion.choices[0].message.parsed)


def test_json_mode(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=PROFILE,
        messages=[{"role": "user", "content": "Answer in JSON: what is the capital of France?"}],
        response_format={"type": "json_object"},
    )
    answer = Answer.model_validate_json(completion.choices[0].message.content or "")
    assert answer.answer.startswith(TAG)


def test_models_list(client: openai.OpenAI) -> None:
    ids = {model.id for model in client.models.list()}
    assert {"auto", "auto-economy", "auto-precise", "cheap", "frontier"} <= ids


def test_async_client(base_url: str) -> None:
    async def run() -> tuple[str, str]:
        async with openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30) as sdk:
            completion = await sdk.chat.completions.create(model=PROFILE, messages=USER)
            stream = await sdk.chat.completions.create(model=PROFILE, messages=USER, stream=True)
            text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
            return completion.choices[0].message.content or "", text

    text, streamed = asyncio.run(run())
    assert text.startswith(TAG) and streamed.startswith(TAG)
