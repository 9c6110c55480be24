"""litellm as a client (``litellm.completion``, provider ``openai``) against the gateway."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import litellm
import pytest

from tests.clients.conftest import PROFILE, UNKNOWN_MODEL
from tests.clients.schemas import QUESTION, SIM_MODELS, TAG, WEATHER_QUESTION, WEATHER_TOOL, Answer, City, assert_city

USER = [{"role": "user", "content": QUESTION}]


@pytest.fixture(scope="module")
def call(base_url: str) -> dict[str, Any]:
    """The arguments every call shares: the OpenAI protocol at the gateway's base URL, no retries."""
    return {"api_base": base_url, "api_key": "unused", "num_retries": 0, "timeout": 30}


def test_chat(call: dict[str, Any]) -> None:
    response = litellm.completion(model=f"openai/{PROFILE}", messages=USER, **call)
    assert isinstance(response, litellm.ModelResponse)
    assert any(name in response.model for name in SIM_MODELS)
    choice = response.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.content.startswith(TAG)


def test_usage(call: dict[str, Any]) -> None:
    response = litellm.completion(model="openai/cheap", messages=USER, max_tokens=16, **call)
    usage = response.usage
    assert usage.prompt_tokens > 0 and 0 < usage.completion_tokens <= 16
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_stream(call: dict[str, Any]) -> None:
    chunks = list(
        litellm.completion(
            model=f"openai/{PROFILE}", messages=USER, stream=True, stream_options={"include_usage": True}, **call
        )
    )
    assert len(chunks) > 2
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert text.startswith(TAG)
    rebuilt = litellm.stream_chunk_builder(chunks, messages=USER)
    assert rebuilt is not None and rebuilt.choices[0].message.content == text
    assert rebuilt.usage.completion_tokens > 0


def test_tools_round_trip(call: dict[str, Any]) -> None:
    messages: list[Any] = [{"role": "user", "content": WEATHER_QUESTION}]
    first = litellm.completion(model=f"openai/{PROFILE}", messages=messages, tools=[WEATHER_TOOL], **call)
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    tool_call = choice.message.tool_calls[0]
    assert tool_call.function.name == "get_weather"
    assert isinstance(json.loads(tool_call.function.arguments)["city"], str)
    messages += [choice.message, {"role": "tool", "tool_call_id": tool_call.id, "content": "sunny, 21 C"}]
    second = litellm.completion(model=f"openai/{PROFILE}", messages=messages, tools=[WEATHER_TOOL], **call)
    assert second.choices[0].finish_reason == "stop" and second.choices[0].message.content


def test_tools_streamed(call: dict[str, Any]) -> None:
    chunks = list(
        litellm.completion(
            model=f"openai/{PROFILE}",
            messages=[{"role": "user", "content": WEATHER_QUESTION}],
            tools=[WEATHER_TOOL],
            stream=True,
            **call,
        )
    )
    rebuilt = litellm.stream_chunk_builder(chunks)
    assert rebuilt is not None
    tool_calls = rebuilt.choices[0].message.tool_calls
    assert tool_calls and tool_calls[0].function.name == "get_weather"
    assert isinstance(json.loads(tool_calls[0].function.arguments)["city"], str)


def test_n_choices(call: dict[str, Any]) -> None:
    response = litellm.completion(model=f"openai/{PROFILE}", messages=USER, n=2, **call)
    texts = [choice.message.content for choice in response.choices]
    assert len(texts) == 2 and all(text.startswith(TAG) for text in texts) and texts[0] != texts[1]


def test_unknown_model_is_not_found_error(call: dict[str, Any]) -> None:
    with pytest.raises(litellm.NotFoundError) as caught:
        litellm.completion(model=f"openai/{UNKNOWN_MODEL}", messages=USER, **call)
    assert caught.value.status_code == 404
    assert UNKNOWN_MODEL in str(caught.value)


def test_structured_output_pydantic(call: dict[str, Any]) -> None:
    response = litellm.completion(
        model=f"openai/{PROFILE}",
        messages=[{"role": "user", "content": "Describe Paris."}],
        response_format=City,
        **call,
    )
    assert_city(City.model_validate_json(response.choices[0].message.content))


def test_structured_output_json_schema_strict(call: dict[str, Any]) -> None:
    schema = City.model_json_schema()
    schema["additionalProperties"] = False
    response_format = {"type": "json_schema", "json_schema": {"name": "City", "strict": True, "schema": schema}}
    response = litellm.completion(
        model=f"openai/{PROFILE}",
        messages=[{"role": "user", "content": "Describe Paris."}],
        response_format=response_format,
        **call,
    )
    assert_city(City.model_validate_json(response.choices[0].message.content))


def test_json_mode(call: dict[str, Any]) -> None:
    response = litellm.completion(
        model=f"openai/{PROFILE}",
        messages=[{"role": "user", "content": "Answer in JSON: what is the capital of France?"}],
        response_format={"type": "json_object"},
        **call,
    )
    assert Answer.model_validate_json(response.choices[0].message.content).answer.startswith(TAG)


def test_async(call: dict[str, Any]) -> None:
    async def run() -> tuple[str, str]:
        response = await litellm.acompletion(model=f"openai/{PROFILE}", messages=USER, **call)
        stream = await litellm.acompletion(model=f"openai/{PROFILE}", messages=USER, stream=True, **call)
        text = "".join([chunk.choices[0].delta.content or "" async for chunk in stream if chunk.choices])
        return response.choices[0].message.content, text

    text, streamed = asyncio.run(run())
    assert text.startswith(TAG) and streamed.startswith(TAG)
