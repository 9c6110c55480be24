"""The simulator's Responses API (``POST /v1/responses``), driven by the official openai SDK and httpx."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
import openai
import pydantic
import pytest
from openai.types.responses import (
    Response,
    ResponseFunctionToolCall,
    ResponseOutputMessage,
    ResponseStreamEvent,
)

from tests.simulator.support import PROMPT, WEATHER_TOOL, chat

QUESTION = str(PROMPT[0]["content"])
WEATHER: Any = {"type": "function", "name": "get_weather", "parameters": WEATHER_TOOL["function"]["parameters"]}
TIME: Any = {"type": "function", "name": "get_time", "parameters": {"type": "object", "properties": {}}}


def _events(sdk: openai.OpenAI, **body: Any) -> list[ResponseStreamEvent]:
    with sdk.responses.create(model="sim-cheap", input=QUESTION, stream=True, **body) as stream:
        return list(stream)


def test_response_object(sdk: openai.OpenAI, http: httpx.Client) -> None:
    response = sdk.responses.create(model="sim-cheap", input=QUESTION)
    assert isinstance(response, Response)
    assert response.id.startswith("resp_") and response.object == "response" and response.status == "completed"
    assert response.model == "sim-cheap" and response.error is None and response.incomplete_details is None
    assert response.parallel_tool_calls is True and response.tool_choice == "auto" and response.tools == []
    assert response.text is not None and response.text.format.type == "text"
    (message,) = response.output
    assert isinstance(message, ResponseOutputMessage)
    assert message.id.startswith("msg_") and message.role == "assistant" and message.status == "completed"
    assert message.content[0].type == "output_text" and message.content[0].annotations == []
    # the same answer as the chat endpoint's, for the same question
    assert response.output_text == chat(http).json()["choices"][0]["message"]["content"]
    usage = response.usage
    assert usage is not None and usage.output_tokens == 40 == len(response.output_text.split())
    assert usage.input_tokens == len(QUESTION) // 4 + 3
    assert usage.total_tokens == usage.input_tokens + usage.output_tokens
    assert usage.input_tokens_details.cached_tokens == 0 and usage.output_tokens_details.reasoning_tokens == 0
    raw = http.post("/responses", json={"model": "sim-cheap", "input": QUESTION})  # the path without /v1
    assert raw.status_code == 200 and raw.json()["output"][0]["content"][0]["text"] == response.output_text


def test_message_items_and_instructions(sdk: openai.OpenAI) -> None:
    items: Any = [
        {"role": "user", "content": "First question"},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "An answer"}]},
        {"role": "user", "content": [{"type": "input_text", "text": QUESTION}]},
    ]
    response = sdk.responses.create(model="sim-frontier", input=items, instructions="Be brief.", temperature=0.2)
    assert response.output_text.startswith("[sim-frontier] ")
    assert response.output_text == sdk.responses.create(model="sim-frontier", input=QUESTION).output_text
    assert response.instructions == "Be brief." and response.temperature == 0.2
    assert response.usage is not None and response.usage.input_tokens > len(QUESTION) // 4 + 3


def test_stream_events(sdk: openai.OpenAI) -> None:
    events = _events(sdk)
    kinds = [event.type for event in events]
    head = ["response.created", "response.in_progress", "response.output_item.added", "response.content_part.added"]
    tail = ["response.output_text.done", "response.content_part.done", "response.output_item.done"]
    assert kinds == [*head, *["response.output_text.delta"] * 40, *tail, "response.completed"]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    final = events[-1]
    assert final.type == "response.completed" and final.response.output_text == deltas
    assert final.response.usage is not None and final.response.usage.output_tokens == 40
    assert events[0].type == "response.created" and events[0].response.status == "in_progress"


def test_stream_helper_accumulates(sdk: openai.OpenAI) -> None:
    with sdk.responses.stream(model="sim-cheap", input=QUESTION) as stream:
        deltas = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert final.output_text == deltas and deltas.startswith("[sim-cheap] ")


def test_function_call_and_its_output(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(model="sim-cheap", input=QUESTION, tools=[WEATHER, TIME])
    (call,) = response.output
    assert isinstance(call, ResponseFunctionToolCall)
    assert call.name == "get_weather" and call.call_id.startswith("call_") and call.id and call.id.startswith("fc_")
    assert json.loads(call.arguments) == {"city": "sample", "unit": "celsius", "days": 1, "detailed": True}
    assert [tool.type for tool in response.tools] == ["function", "function"]
    follow_up: Any = [
        {"role": "user", "content": QUESTION},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 21}'},
    ]
    answer = sdk.responses.create(model="sim-cheap", input=follow_up, tools=[WEATHER])
    assert isinstance(answer.output[0], ResponseOutputMessage) and "tool result" in answer.output_text


def test_tool_choice(sdk: openai.OpenAI) -> None:
    named = sdk.responses.create(
        model="sim-cheap", input=QUESTION, tools=[WEATHER, TIME], tool_choice={"type": "function", "name": "get_time"}
    )
    assert isinstance(named.output[0], ResponseFunctionToolCall) and named.output[0].name == "get_time"
    plain = sdk.responses.create(model="sim-cheap", input=QUESTION, tools=[WEATHER], tool_choice="none")
    assert plain.output_text.startswith("[sim-cheap] ")
    with pytest.raises(openai.BadRequestError):
        sdk.responses.create(
            model="sim-cheap", input=QUESTION, tools=[WEATHER], tool_choice={"type": "function", "name": "nope"}
        )


def test_function_call_stream(sdk: openai.OpenAI) -> None:
    events = _events(sdk, tools=[WEATHER])
    deltas = [event.delta for event in events if event.type == "response.function_call_arguments.delta"]
    (done,) = [event for event in events if event.type == "response.function_call_arguments.done"]
    assert len(deltas) > 1 and "".join(deltas) == done.arguments and done.name == "get_weather"
    final = events[-1]
    assert final.type == "response.completed" and isinstance(final.response.output[0], ResponseFunctionToolCall)
    assert final.response.output[0].arguments == done.arguments


class Answer(pydantic.BaseModel):
    city: str
    population: int
    tags: list[str]


def test_structured_output_parse(sdk: openai.OpenAI) -> None:
    parsed = sdk.responses.parse(model="sim-cheap", input=QUESTION, text_format=Answer)
    assert isinstance(parsed.output_parsed, Answer)
    json_mode = sdk.responses.create(model="sim-cheap", input=QUESTION, text={"format": {"type": "json_object"}})
    assert str(json.loads(json_mode.output_text)["answer"]).startswith("[sim-cheap] ")


def test_max_output_tokens_is_incomplete(sdk: openai.OpenAI) -> None:
    response = sdk.responses.create(model="sim-cheap", input=QUESTION, max_output_tokens=5)
    assert response.status == "incomplete" and response.max_output_tokens == 5
    assert response.incomplete_details is not None and response.incomplete_details.reason == "max_output_tokens"
    assert response.usage is not None and response.usage.output_tokens == 5
    assert _events(sdk, max_output_tokens=5)[-1].type == "response.incomplete"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": ""}, "input"),
        ({"input": [{"role": "robot", "content": "hi"}]}, "input[0]"),
        ({"input": [{"type": "image_generation_call"}]}, "input[0]"),
        ({"max_output_tokens": 0}, "max_output_tokens"),
        ({"temperature": 3}, "temperature"),
        ({"previous_response_id": "resp_1"}, "previous_response_id"),
        ({"text": {"format": {"type": "yaml"}}}, "text.format"),
        (
            {"text": {"format": {"type": "json_schema", "name": "x", "strict": True, "schema": {"type": "object"}}}},
            None,
        ),
    ],
)
def test_bad_requests_are_400(http: httpx.Client, body: dict[str, Any], param: str | None) -> None:
    response = http.post("/v1/responses", json={"model": "sim-cheap", "input": QUESTION, **body})
    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == (param or "text.format")


def test_unknown_model_is_404(sdk: openai.OpenAI) -> None:
    for model in ("gpt-nope", "sim-embedding"):
        with pytest.raises(openai.NotFoundError):
            sdk.responses.create(model=model, input=QUESTION)


def test_faults(sdk: openai.OpenAI, http: httpx.Client) -> None:
    with pytest.raises(openai.InternalServerError):
        sdk.responses.create(model="sim-cheap", input=QUESTION, extra_headers={"x-sim-fault": "500"})
    with pytest.raises(openai.RateLimitError):
        sdk.responses.create(model="sim-cheap", input=QUESTION, extra_headers={"x-sim-fault": "429"})
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):  # mid-stream: the SDK does not wrap it
        _events(sdk, extra_headers={"x-sim-fault": "reset;after=2"})
    truncated = _events(sdk, extra_headers={"x-sim-fault": "truncate;after=3"})
    assert [event.type for event in truncated][-1] == "response.output_text.delta" and len(truncated) == 7
    payload = {"model": "sim-cheap", "input": QUESTION}
    malformed = http.post("/v1/responses", json=payload, headers={"x-sim-fault": "malformed"})
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.text)


def test_speed_headers(http: httpx.Client) -> None:
    started = time.perf_counter()
    response = http.post(
        "/v1/responses",
        json={"model": "sim-cheap", "input": QUESTION},
        headers={"x-sim-ttft-ms": "200", "x-sim-answer-tokens": "5"},
    )
    assert time.perf_counter() - started >= 0.2
    assert response.json()["usage"]["output_tokens"] == 5
