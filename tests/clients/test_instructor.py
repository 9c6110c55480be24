"""instructor on the official SDK against the gateway: TOOLS, JSON and JSON_SCHEMA modes."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import httpx
import instructor
import openai
import pytest
from instructor.core.exceptions import InstructorRetryException
from openai.types.chat import ChatCompletion

from tests.clients.conftest import PROFILE, UNKNOWN_MODEL
from tests.clients.schemas import QUESTION, TAG, Answer, City, assert_city

DESCRIBE = [{"role": "user", "content": "Describe Paris."}]


@pytest.fixture(scope="module")
def sent() -> list[dict[str, Any]]:
    """The JSON bodies the SDK sent, newest last (to check what each mode asked the gateway for)."""
    return []


@pytest.fixture(scope="module")
def sdk(base_url: str, sent: list[dict[str, Any]]) -> Iterator[openai.OpenAI]:
    def record(request: httpx.Request) -> None:
        if request.content:
            sent.append(json.loads(request.content))

    http = httpx.Client(event_hooks={"request": [record]})
    with openai.OpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30, http_client=http) as client:
        yield client


def patched(sdk: openai.OpenAI, mode: instructor.Mode) -> instructor.Instructor:
    return instructor.from_openai(sdk, mode=mode)


def test_chat_without_response_model(sdk: openai.OpenAI) -> None:
    completion = patched(sdk, instructor.Mode.TOOLS).chat.completions.create(
        model=PROFILE, messages=[{"role": "user", "content": QUESTION}], response_model=None
    )
    assert isinstance(completion, ChatCompletion)
    assert (completion.choices[0].message.content or "").startswith(TAG)


@pytest.mark.parametrize("mode", [instructor.Mode.TOOLS, instructor.Mode.JSON_SCHEMA])
def test_structured_output(sdk: openai.OpenAI, sent: list[dict[str, Any]], mode: instructor.Mode) -> None:
    city = patched(sdk, mode).chat.completions.create(
        model=PROFILE, messages=DESCRIBE, response_model=City, max_retries=0
    )
    assert_city(city)
    if mode is instructor.Mode.TOOLS:
        assert sent[-1]["tool_choice"] == {"type": "function", "function": {"name": "City"}}
    else:
        assert sent[-1]["response_format"]["type"] == "json_schema"


def test_json_mode(sdk: openai.OpenAI, sent: list[dict[str, Any]]) -> None:
    answer = patched(sdk, instructor.Mode.JSON).chat.completions.create(
        model=PROFILE,
        messages=[{"role": "user", "content": QUESTION}],
        response_model=Answer,
        max_retries=0,
    )
    assert isinstance(answer, Answer) and answer.answer.startswith(TAG)
    assert sent[-1]["response_format"] == {"type": "json_object"}


def test_usage_with_completion(sdk: openai.OpenAI) -> None:
    city, completion = patched(sdk, instructor.Mode.TOOLS).chat.completions.create_with_completion(
        model=PROFILE, messages=DESCRIBE, response_model=City, max_retries=0
    )
    assert_city(city)
    assert isinstance(completion, ChatCompletion) and completion.usage is not None
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    assert completion.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize("mode", [instructor.Mode.TOOLS, instructor.Mode.JSON_SCHEMA])
def test_partial_streaming(sdk: openai.OpenAI, mode: instructor.Mode) -> None:
    partials = list(
        patched(sdk, mode).chat.completions.create_partial(
            model=PROFILE, messages=DESCRIBE, response_model=City, max_retries=0
        )
    )
    assert len(partials) > 1, "the object is built up over several chunks"
    final = City.model_validate(partials[-1].model_dump())
    assert_city(final)


def test_unknown_model_raises_not_found(sdk: openai.OpenAI) -> None:
    # instructor wraps the SDK's error in its own retry exception, the SDK's typed error as the cause
    with pytest.raises(InstructorRetryException) as caught:
        patched(sdk, instructor.Mode.TOOLS).chat.completions.create(
            model=UNKNOWN_MODEL, messages=DESCRIBE, response_model=City, max_retries=0
        )
    cause = caught.value.__cause__
    assert isinstance(cause, openai.NotFoundError) and cause.status_code == 404 and cause.code == "model_not_found"
    assert caught.value.n_attempts == 1


def test_async(base_url: str) -> None:
    async def run() -> City:
        async with openai.AsyncOpenAI(base_url=base_url, api_key="unused", max_retries=0, timeout=30) as client:
            return await instructor.from_openai(client, mode=instructor.Mode.TOOLS).chat.completions.create(
                model=PROFILE, messages=DESCRIBE, response_model=City, max_retries=0
            )

    assert_city(asyncio.run(run()))
