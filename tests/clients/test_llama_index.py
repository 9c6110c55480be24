"""LlamaIndex's OpenAI LLM (``OpenAILike``, for OpenAI-compatible servers) against the gateway."""

from __future__ import annotations

import asyncio

import openai
import pytest
from llama_index.core.base.llms.types import ChatMessage, ChatResponse
from llama_index.core.prompts import PromptTemplate
from llama_index.core.tools import FunctionTool
from llama_index.llms.openai_like import OpenAILike
from openai.types.chat import ChatCompletion

from tests.clients.conftest import PROFILE, UNKNOWN_MODEL
from tests.clients.schemas import QUESTION, TAG, WEATHER_QUESTION, City, assert_city, get_weather

USER = [ChatMessage(role="user", content=QUESTION)]
DESCRIBE = PromptTemplate("Describe {city}.")


def make_llm(base_url: str, model: str = PROFILE) -> OpenAILike:
    return OpenAILike(
        model=model,
        api_base=base_url,
        api_key="unused",
        is_chat_model=True,
        is_function_calling_model=True,
        context_window=8192,
        max_retries=0,
        timeout=30,
    )


@pytest.fixture(scope="module")
def llm(base_url: str) -> OpenAILike:
    return make_llm(base_url)


def test_chat(llm: OpenAILike) -> None:
    response = llm.chat(USER)
    assert isinstance(response, ChatResponse)
    assert response.message.role == "assistant"
    assert (response.message.content or "").startswith(TAG)


def test_complete(llm: OpenAILike) -> None:
    assert llm.complete(QUESTION).text.startswith(TAG)


def test_usage(llm: OpenAILike) -> None:
    response = llm.chat(USER)
    assert isinstance(response.raw, ChatCompletion) and response.raw.usage is not None
    counts = response.additional_kwargs
    assert int(counts["prompt_tokens"]) > 0 and int(counts["completion_tokens"]) > 0
    assert int(counts["total_tokens"]) == int(counts["prompt_tokens"]) + int(counts["completion_tokens"])


def test_stream(llm: OpenAILike) -> None:
    chunks = list(llm.stream_chat(USER))
    assert len(chunks) > 2
    text = "".join(chunk.delta or "" for chunk in chunks)
    assert text.startswith(TAG) and chunks[-1].message.content == text


def test_tools(llm: OpenAILike) -> None:
    tool = FunctionTool.from_defaults(fn=get_weather)
    response = llm.chat_with_tools([tool], user_msg=WEATHER_QUESTION)
    calls = llm.get_tool_calls_from_response(response, error_on_no_tool_call=True)
    assert [call.tool_name for call in calls] == ["get_weather"]
    assert isinstance(calls[0].tool_kwargs["city"], str)
    output = llm.predict_and_call([tool], user_msg=WEATHER_QUESTION)
    assert output.response == get_weather(calls[0].tool_kwargs["city"])


def test_unknown_model_raises_not_found(base_url: str) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        make_llm(base_url, UNKNOWN_MODEL).chat(USER)
    assert caught.value.status_code == 404


def test_structured_predict(llm: OpenAILike) -> None:
    assert_city(llm.structured_predict(City, DESCRIBE, city="Paris"))


def test_structured_llm(llm: OpenAILike) -> None:
    response = llm.as_structured_llm(City).chat([ChatMessage(role="user", content="Describe Paris.")])
    assert_city(response.raw)
    assert City.model_validate_json(response.message.content or "") == response.raw


def test_stream_structured_predict(llm: OpenAILike) -> None:
    partials = list(llm.stream_structured_predict(City, DESCRIBE, city="Paris"))
    assert partials
    assert_city(City.model_validate(partials[-1].model_dump()))


def test_async(llm: OpenAILike) -> None:
    async def run() -> tuple[ChatResponse, object]:
        return await llm.achat(USER), await llm.astructured_predict(City, DESCRIBE, city="Paris")

    response, city = asyncio.run(run())
    assert (response.message.content or "").startswith(TAG)
    assert_city(city)
