"""pydantic-ai's ``OpenAIChatModel`` against the gateway: run, stream, tools, usage, errors, tool and native output."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from pydantic_ai import Agent, NativeOutput, ToolOutput
from pydantic_ai.exceptions import ModelHTTPError
from pydantic_ai.messages import ToolCallPart, ToolReturnPart
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from tests.clients.conftest import PROFILE, UNKNOWN_MODEL
from tests.clients.schemas import QUESTION, TAG, WEATHER_QUESTION, City, assert_city
from tests.clients.schemas import get_weather as weather


def chat_model(base_url: str, name: str = PROFILE, sent: list[dict[str, Any]] | None = None) -> OpenAIChatModel:
    """The model at the gateway; ``sent`` collects the JSON bodies it sends."""

    async def record(request: httpx.Request) -> None:
        if sent is not None and request.content:
            sent.append(json.loads(request.content))

    http = httpx.AsyncClient(timeout=30, event_hooks={"request": [record]})
    return OpenAIChatModel(name, provider=OpenAIProvider(base_url=base_url, api_key="unused", http_client=http))


@pytest.fixture(scope="module")
def model(base_url: str) -> OpenAIChatModel:
    return chat_model(base_url)


def test_run(model: OpenAIChatModel) -> None:
    result = Agent(model).run_sync(QUESTION)
    assert isinstance(result.output, str) and result.output.startswith(TAG)


def test_usage(model: OpenAIChatModel) -> None:
    usage = Agent(model).run_sync(QUESTION).usage
    assert usage.requests == 1
    assert usage.input_tokens > 0 and usage.output_tokens > 0


def test_stream(model: OpenAIChatModel) -> None:
    async def run() -> tuple[list[str], str]:
        async with Agent(model).run_stream(QUESTION) as result:
            deltas = [delta async for delta in result.stream_text(delta=True, debounce_by=None)]
            return deltas, await result.get_output()

    deltas, output = asyncio.run(run())
    assert len(deltas) > 1
    assert "".join(deltas) == output and output.startswith(TAG)


def test_tools(model: OpenAIChatModel) -> None:
    agent = Agent(model)
    calls: list[str] = []

    @agent.tool_plain
    def get_weather(city: str) -> str:
        """Get the current weather in a city."""
        calls.append(city)
        return weather(city)

    result = agent.run_sync(WEATHER_QUESTION)
    assert len(calls) == 1 and isinstance(calls[0], str)
    parts = [part for message in result.all_messages() for part in message.parts]
    assert any(isinstance(part, ToolCallPart) and part.tool_name == "get_weather" for part in parts)
    assert any(isinstance(part, ToolReturnPart) and part.content == weather(calls[0]) for part in parts)
    assert isinstance(result.output, str) and result.output
    assert result.usage.requests == 2


def test_tool_output(base_url: str) -> None:
    sent: list[dict[str, Any]] = []
    result = Agent(chat_model(base_url, sent=sent), output_type=ToolOutput(City)).run_sync("Describe Paris.")
    assert_city(result.output)
    assert [tool["function"]["name"] for tool in sent[-1]["tools"]] == ["final_result"]


def test_native_output(base_url: str) -> None:
    sent: list[dict[str, Any]] = []
    result = Agent(chat_model(base_url, sent=sent), output_type=NativeOutput(City)).run_sync("Describe Paris.")
    assert_city(result.output)
    response_format = sent[-1]["response_format"]
    assert response_format["type"] == "json_schema" and response_format["json_schema"]["strict"] is True


def test_unknown_model_is_model_http_error(base_url: str) -> None:
    with pytest.raises(ModelHTTPError) as caught:
        Agent(chat_model(base_url, UNKNOWN_MODEL)).run_sync(QUESTION)
    assert caught.value.status_code == 404
    assert caught.value.model_name == UNKNOWN_MODEL
