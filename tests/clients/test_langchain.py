"""LangChain's ``ChatOpenAI`` against the gateway: invoke, stream, tools, n, usage, errors, structured output."""

from __future__ import annotations

import asyncio

import openai
import pytest
from langchain_core.messages import AIMessage, AIMessageChunk, HumanMessage, ToolMessage
from langchain_core.tools import tool
from langchain_openai import ChatOpenAI

from tests.clients.conftest import PROFILE, UNKNOWN_MODEL
from tests.clients.schemas import QUESTION, SIM_MODELS, TAG, WEATHER_QUESTION, Answer, City, assert_city
from tests.clients.schemas import get_weather as weather


@tool
def get_weather(city: str) -> str:
    """Get the current weather in a city."""
    return weather(city)


def chat_model(base_url: str, **kwargs: object) -> ChatOpenAI:
    options: dict[str, object] = {"model": PROFILE, "max_retries": 0, "timeout": 30, **kwargs}
    return ChatOpenAI(base_url=base_url, api_key="unused", **options)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def llm(base_url: str) -> ChatOpenAI:
    return chat_model(base_url)


def test_invoke(llm: ChatOpenAI) -> None:
    message = llm.invoke(QUESTION)
    assert isinstance(message, AIMessage)
    assert isinstance(message.content, str) and message.content.startswith(TAG)
    assert message.response_metadata["finish_reason"] == "stop"
    assert message.response_metadata["model_name"] in SIM_MODELS


def test_usage(llm: ChatOpenAI) -> None:
    usage = llm.invoke(QUESTION).usage_metadata
    assert usage is not None and usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert usage["total_tokens"] == usage["input_tokens"] + usage["output_tokens"]


def test_stream(base_url: str) -> None:
    chunks = list(chat_model(base_url, stream_usage=True).stream(QUESTION))
    assert len(chunks) > 2 and all(isinstance(chunk, AIMessageChunk) for chunk in chunks)
    message = chunks[0]
    for chunk in chunks[1:]:
        message += chunk
    assert isinstance(message.content, str) and message.content.startswith(TAG)
    assert message.usage_metadata is not None and message.usage_metadata["output_tokens"] > 0


def test_tools_round_trip(llm: ChatOpenAI) -> None:
    with_tools = llm.bind_tools([get_weather])
    messages: list = [HumanMessage(WEATHER_QUESTION)]
    first = with_tools.invoke(messages)
    assert isinstance(first, AIMessage) and len(first.tool_calls) == 1
    call = first.tool_calls[0]
    assert call["name"] == "get_weather" and isinstance(call["args"]["city"], str) and call["id"]
    result = get_weather.invoke(call)
    assert isinstance(result, ToolMessage) and result.tool_call_id == call["id"]
    second = with_tools.invoke([*messages, first, result])
    assert not second.tool_calls and isinstance(second.content, str) and second.content


def test_tools_streamed(llm: ChatOpenAI) -> None:
    chunks = list(llm.bind_tools([get_weather], tool_choice="get_weather").stream(WEATHER_QUESTION))
    message = chunks[0]
    for chunk in chunks[1:]:
        message += chunk
    assert isinstance(message, AIMessageChunk)
    assert [call["name"] for call in message.tool_calls] == ["get_weather"]
    assert isinstance(message.tool_calls[0]["args"]["city"], str)


def test_n_generations(base_url: str) -> None:
    result = chat_model(base_url, n=2).generate([[HumanMessage(QUESTION)]])
    texts = [generation.text for generation in result.generations[0]]
    assert len(texts) == 2 and all(text.startswith(TAG) for text in texts) and texts[0] != texts[1]


def test_unknown_model_raises_not_found(base_url: str) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        chat_model(base_url, model=UNKNOWN_MODEL).invoke(QUESTION)
    assert caught.value.status_code == 404 and caught.value.code == "model_not_found"


def test_structured_output_json_schema(llm: ChatOpenAI) -> None:
    structured = llm.with_structured_output(City, method="json_schema", strict=True, include_raw=True)
    result = structured.invoke("Describe Paris.")
    assert isinstance(result, dict) and result["parsing_error"] is None
    assert_city(result["parsed"])
    raw = result["raw"]
    assert isinstance(raw, AIMessage) and raw.usage_metadata is not None


def test_structured_output_function_calling(llm: ChatOpenAI) -> None:
    assert_city(llm.with_structured_output(City, method="function_calling").invoke("Describe Paris."))


def test_structured_output_json_mode(llm: ChatOpenAI) -> None:
    answer = llm.with_structured_output(Answer, method="json_mode").invoke(
        "Answer in JSON with one key, answer: what is the capital of France?"
    )
    assert isinstance(answer, Answer) and answer.answer.startswith(TAG)


def test_async(llm: ChatOpenAI) -> None:
    async def run() -> tuple[AIMessage, City]:
        message = await llm.ainvoke(QUESTION)
        city = await llm.with_structured_output(City, method="json_schema").ainvoke("Describe Paris.")
        assert isinstance(message, AIMessage) and isinstance(city, City)
        return message, city

    message, city = asyncio.run(run())
    assert isinstance(message.content, str) and message.content.startswith(TAG)
    assert_city(city)
