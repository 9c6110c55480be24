"""``POST /v1/responses`` to chat completions and back, checked with the openai SDK's own types and client."""

from __future__ import annotations

import typing
from typing import Any

import httpx
import openai
import orjson
import pytest
from openai.types.chat import completion_create_params
from openai.types.responses import Response, response_create_params

from gateway.protocol import responses_api
from gateway.protocol.errors import InvalidRequest
from gateway.protocol.responses_api import chat_request, response_body
from gateway.protocol.schemas import ChatCompletionRequest
from tests.gateway.protocol.wire import USAGE, completion, tool_call, validate

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather for a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}},
        "required": ["city"],
        "additionalProperties": False,
    },
    "strict": True,
}
CHAT_WEATHER_TOOL = {
    "type": "function",
    "function": {k: v for k, v in WEATHER_TOOL.items() if k != "type"},
}


def chat_ok(chat: dict[str, Any]) -> dict[str, Any]:
    """``chat`` is a valid chat request for the gateway and for the openai SDK's own types."""
    ChatCompletionRequest.model_validate(chat)
    kind = (
        completion_create_params.CompletionCreateParamsStreaming
        if chat.get("stream")
        else completion_create_params.CompletionCreateParamsNonStreaming
    )
    validate(kind, chat)
    return chat


# --- requests ---------------------------------------------------------------------------------


def test_a_string_input_is_one_user_message_after_the_instructions() -> None:
    chat = chat_ok(chat_request({"model": "auto", "instructions": "Be brief.", "input": "Capital of France?"}))
    assert chat == {
        "model": "auto",
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Capital of France?"}],
    }


def test_an_agent_request_maps_field_by_field() -> None:
    raw = {
        "model": "auto-economy",
        "instructions": "You are a coding agent.",
        "input": [{"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"}]}],
        "tools": [WEATHER_TOOL],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"effort": "low", "summary": "auto"},
        "store": False,
        "include": ["reasoning.encrypted_content"],
        "stream": True,
        "prompt_cache_key": "session-42",
        "text": {"verbosity": "low"},
        "max_output_tokens": 2048,
        "temperature": 0.2,
        "top_p": 0.9,
        "user": "u-1",
        "safety_identifier": "hash-1",
        "service_tier": "auto",
        "metadata": {"ticket": "T-1"},
        "truncation": "disabled",
        "background": False,
        "previous_response_id": None,
    }
    assert chat_ok(chat_request(raw)) == {
        "model": "auto-economy",
        "messages": [
            {"role": "system", "content": "You are a coding agent."},
            {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
        ],
        "temperature": 0.2,
        "top_p": 0.9,
        "user": "u-1",
        "service_tier": "auto",
        "prompt_cache_key": "session-42",
        "safety_identifier": "hash-1",
        "max_completion_tokens": 2048,
        "tools": [CHAT_WEATHER_TOOL],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "verbosity": "low",
        "reasoning_effort": "low",
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_tool_choice_and_formats() -> None:
    base = {"model": "m", "input": "x", "tools": [{"type": "function", "name": "f"}]}
    chat = chat_ok(chat_request({**base, "tool_choice": {"type": "function", "name": "f"}}))
    assert chat["tools"] == [{"type": "function", "function": {"name": "f"}}]
    assert chat["tool_choice"] == {"type": "function", "function": {"name": "f"}}
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    form = {"type": "json_schema", "name": "thing", "schema": schema, "strict": True, "description": "A thing."}
    assert chat_ok(chat_request({"model": "m", "input": "x", "text": {"format": form}}))["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "thing", "schema": schema, "strict": True, "description": "A thing."},
    }
    json_object = chat_request({"model": "m", "input": "x", "text": {"format": {"type": "json_object"}}})
    assert json_object["response_format"] == {"type": "json_object"}
    assert "response_format" not in chat_request({"model": "m", "input": "x", "text": {"format": {"type": "text"}}})


def test_tool_settings_without_tools_are_left_out() -> None:
    """Chat completions refuse tool_choice and parallel_tool_calls without tools."""
    chat = chat_request({"model": "m", "input": "x", "tool_choice": "none", "parallel_tool_calls": True, "tools": []})
    assert chat == {"model": "m", "messages": [{"role": "user", "content": "x"}]}


def test_a_non_streaming_request_says_so() -> None:
    assert chat_request({"model": "m", "input": "x", "stream": False})["stream"] is False


@pytest.mark.parametrize(
    ("extra", "param", "code", "words"),
    [
        (
            {"previous_response_id": "resp_1"},
            "previous_response_id",
            "unsupported_feature",
            "whole conversation in `input`",
        ),
        ({"conversation": "conv_1"}, "conversation", "unsupported_feature", "whole conversation in `input`"),
        ({"background": True}, "background", "unsupported_feature", "stores no responses"),
        ({"prompt": {"id": "pmpt_1"}}, "prompt", "unsupported_feature", "templates"),
        ({"tools": [{"type": "web_search"}]}, "tools[0].type", "unsupported_feature", "'web_search'"),
        (
            {"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}]},
            "tools[0].type",
            "unsupported_feature",
            "function tools",
        ),
        ({"tools": [{"type": "computer_use_preview"}]}, "tools[0].type", "unsupported_feature", "function tools"),
        (
            {"tools": [{"type": "custom", "name": "apply_patch"}]},
            "tools[0].type",
            "unsupported_feature",
            "function tools",
        ),
        ({"tools": [{"type": "function"}]}, "tools[0].name", None, "required"),
        ({"tools": {"type": "function"}}, "tools", None, "list"),
        (
            {"tools": [{"type": "function", "name": "f"}], "tool_choice": {"type": "allowed_tools"}},
            "tool_choice",
            "unsupported_feature",
            "allowed_tools",
        ),
        ({"tools": [{"type": "function", "name": "f"}], "tool_choice": "sometimes"}, "tool_choice", None, "auto"),
        ({"text": {"format": {"type": "xml"}}}, "text.format", None, "json_schema"),
        ({"text": {"format": {"type": "json_schema", "schema": {}}}}, "text.format.name", None, "required"),
        ({"reasoning": "high"}, "reasoning", None, "object"),
        ({"top_logprobs": 3}, "top_logprobs", "unsupported_feature", "chat/completions"),
        ({"moderation": {"mode": "block"}}, "moderation", "unsupported_feature", "moderation"),
        ({"frequency_penalty": 1}, "frequency_penalty", "unsupported_feature", "unknown parameter"),
        ({"stream": "yes"}, "stream", None, "boolean"),
        ({"instructions": ["a"]}, "instructions", None, "string"),
        ({"model": None}, "model", None, "required"),
        ({"input": None}, "input", None, "input"),
        ({"input": []}, "input", None, "empty"),
    ],
)
def test_what_cannot_be_translated_is_a_400_naming_the_field(
    extra: dict[str, Any], param: str, code: str | None, words: str
) -> None:
    with pytest.raises(InvalidRequest) as caught:
        chat_request({"model": "m", "input": "x", **extra})
    assert (caught.value.status, caught.value.param, caught.value.code) == (400, param, code)
    assert words in caught.value.message
    assert caught.value.body()["error"]["type"] == "invalid_request_error"


def test_every_documented_request_field_has_a_decision() -> None:
    """A field the SDK can send is mapped, has no effect, or is refused: never 'unknown parameter'."""
    fields = set(typing.get_type_hints(response_create_params.ResponseCreateParamsBase)) | {"stream"}
    decided = (
        responses_api._HANDLED | responses_api._NO_EFFECT | set(responses_api._SAME_NAME) | set(responses_api._REFUSED)
    )
    assert fields <= decided, sorted(fields - decided)


# --- responses ------------------------------------------------------------------------------


def test_a_text_answer_is_a_completed_response() -> None:
    request = {
        "model": "auto",
        "instructions": "Be brief.",
        "input": "Capital of France?",
        "temperature": 0.3,
        "metadata": {"k": "v"},
    }
    body = response_body(completion(), request)
    response: Response = validate(Response, body)
    assert response.id == "resp_B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert (response.status, response.model, response.created_at) == (
        "completed",
        "gpt-4o-mini-2024-07-18",
        1_700_000_000,
    )
    assert response.output_text == "Paris is the capital of France."
    assert response.output[0].id == "msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT"
    assert response.usage is not None
    assert response.usage.model_dump() == {
        "input_tokens": 120,
        "input_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 0},
        "output_tokens": 30,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 150,
    }
    assert (response.instructions, response.temperature, response.top_p, response.metadata) == (
        "Be brief.",
        0.3,
        1.0,
        {"k": "v"},
    )
    assert (response.tool_choice, response.tools, response.parallel_tool_calls) == ("auto", [], True)
    assert response.text is not None and response.text.format is not None and response.text.format.type == "text"


def test_tool_calls_are_function_call_items_and_the_request_is_echoed() -> None:
    request = {
        "model": "auto",
        "input": "Weather?",
        "tools": [WEATHER_TOOL],
        "tool_choice": "required",
        "reasoning": {"effort": "low"},
    }
    chat = completion(
        None,
        tool_calls=[
            tool_call("call_Ab1", "get_weather", '{"city":"Paris"}'),
            tool_call("call_Cd2", "get_weather", '{"city":"Rome"}'),
        ],
        finish_reason="tool_calls",
    )
    response: Response = validate(Response, response_body(chat, request))
    assert [item.type for item in response.output] == ["function_call", "function_call"]
    first = response.output[0]
    assert first.type == "function_call"
    assert (first.id, first.call_id, first.name, first.arguments, first.status) == (
        "fc_Ab1",
        "call_Ab1",
        "get_weather",
        '{"city":"Paris"}',
        "completed",
    )
    assert response.tools[0].type == "function" and response.tools[0].name == "get_weather"
    assert response.tool_choice == "required"
    assert response.reasoning is not None and response.reasoning.effort == "low"


def test_a_cut_answer_is_incomplete() -> None:
    response: Response = validate(
        Response,
        response_body(
            completion("Paris is", finish_reason="length"), {"model": "m", "input": "x", "max_output_tokens": 3}
        ),
    )
    assert response.status == "incomplete"
    assert response.incomplete_details is not None and response.incomplete_details.reason == "max_output_tokens"
    assert response.output[0].type == "message" and response.output[0].status == "incomplete"
    assert response.max_output_tokens == 3


def test_a_refusal_and_a_json_schema_echo() -> None:
    form = {"type": "json_schema", "name": "thing", "schema": {"type": "object"}, "strict": True}
    request = {"model": "m", "input": "x", "text": {"format": form}}
    response: Response = validate(Response, response_body(completion(None, refusal="I can't help with that."), request))
    message = response.output[0]
    assert message.type == "message" and message.content[0].type == "refusal"
    assert response.text is not None and response.text.format is not None and response.text.format.type == "json_schema"


def test_an_empty_answer_without_usage() -> None:
    response: Response = validate(
        Response, response_body(completion(""), {"model": "m", "input": "x"}) | {"usage": None}
    )
    assert response.output == [] and response.output_text == ""


# --- through the openai SDK, as an application would -----------------------------------------


def sdk(answer: dict[str, Any], seen: list[dict[str, Any]]) -> openai.OpenAI:
    """An openai client whose /v1/responses is our translation around a fixed chat answer."""

    def handle(request: httpx.Request) -> httpx.Response:
        raw = orjson.loads(request.content)
        seen.append(chat_ok(chat_request(raw)))
        return httpx.Response(200, json=response_body(answer, raw))

    client = httpx.Client(transport=httpx.MockTransport(handle))
    return openai.OpenAI(api_key="sk-test", base_url="http://triage.test/v1", http_client=client, max_retries=0)


def test_the_sdk_round_trip_for_text_and_tools() -> None:
    seen: list[dict[str, Any]] = []
    with sdk(completion(), seen) as client:
        response = client.responses.create(
            model="auto", input="Capital of France?", instructions="Be brief.", max_output_tokens=64
        )
    assert response.output_text == "Paris is the capital of France."
    assert seen[0]["max_completion_tokens"] == 64
    answer = completion(
        None, tool_calls=[tool_call("call_1", "get_weather", '{"city":"Paris"}')], finish_reason="tool_calls"
    )
    with sdk(answer, seen) as client:
        response = client.responses.create(
            model="auto",
            input=[
                {"role": "user", "content": "Weather in Paris?"},
                {"type": "function_call", "call_id": "call_0", "name": "get_weather", "arguments": '{"city":"Rome"}'},
                {"type": "function_call_output", "call_id": "call_0", "output": "20C"},
            ],
            tools=[WEATHER_TOOL],
        )
    call = response.output[0]
    assert call.type == "function_call" and call.arguments == '{"city":"Paris"}'
    assert [m["role"] for m in seen[1]["messages"]] == ["user", "assistant", "tool"]


def test_the_sdk_parses_usage_from_the_translated_body() -> None:
    with sdk(completion(usage=USAGE), []) as client:
        response = client.responses.create(model="auto", input="hi")
    assert response.usage is not None and response.usage.input_tokens_details.cached_tokens == 100


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"max_output_tokens": 0}, "max_output_tokens"),
        ({"max_output_tokens": "5"}, "max_output_tokens"),
        ({"tools": [{"type": "function", "name": "f"}], "parallel_tool_calls": "no"}, "parallel_tool_calls"),
    ],
)
def test_numbers_and_flags_are_checked_under_their_responses_name(extra: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        chat_request({"model": "m", "input": "x", **extra})
    assert caught.value.param == param
