"""``POST /v1/messages`` to chat completions and back, checked with the anthropic SDK's own types and client."""

from __future__ import annotations

import typing
from typing import Any

import anthropic
import httpx2
import orjson
import pytest
from anthropic.types import Message, message_create_params
from anthropic.types.shared import ErrorResponse
from openai.types.chat import completion_create_params

from gateway.protocol import anthropic_api
from gateway.protocol.anthropic_api import chat_request, error_body, message_body
from gateway.protocol.errors import InvalidRequest
from gateway.protocol.schemas import ChatCompletionRequest
from tests.gateway.protocol.wire import completion, tool_call, validate

READ_TOOL = {
    "name": "Read",
    "description": "Read a file.",
    "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    "cache_control": {"type": "ephemeral"},
}
CHAT_READ_TOOL = {
    "type": "function",
    "function": {"name": "Read", "description": "Read a file.", "parameters": READ_TOOL["input_schema"]},
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


def test_a_minimal_request() -> None:
    chat = chat_ok(
        chat_request({"model": "auto", "max_tokens": 256, "messages": [{"role": "user", "content": "Hello, Claude"}]})
    )
    assert chat == {
        "model": "auto",
        "max_completion_tokens": 256,
        "messages": [{"role": "user", "content": "Hello, Claude"}],
    }


def test_a_full_request_maps_field_by_field() -> None:
    raw = {
        "model": "auto-economy",
        "max_tokens": 4096,
        "system": [{"type": "text", "text": "You are a coding agent.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Open a.py"}]}],
        "stop_sequences": ["</answer>"],
        "temperature": 0.2,
        "top_p": 0.9,
        "top_k": 40,
        "metadata": {"user_id": "user_7f3"},
        "tools": [READ_TOOL, {"type": "custom", "name": "Grep", "input_schema": {"type": "object"}, "strict": True}],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "service_tier": "auto",
        "stream": True,
    }
    assert chat_ok(chat_request(raw)) == {
        "model": "auto-economy",
        "max_completion_tokens": 4096,
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "You are a coding agent."}]},
            {"role": "user", "content": [{"type": "text", "text": "Open a.py"}]},
        ],
        "temperature": 0.2,
        "top_p": 0.9,
        "stop": ["</answer>"],
        "user": "user_7f3",
        "tools": [
            CHAT_READ_TOOL,
            {"type": "function", "function": {"name": "Grep", "parameters": {"type": "object"}, "strict": True}},
        ],
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "stream": True,
        "stream_options": {"include_usage": True},
    }


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, "auto"),
        ({"type": "any"}, "required"),
        ({"type": "none"}, "none"),
        ({"type": "tool", "name": "Read"}, {"type": "function", "function": {"name": "Read"}}),
    ],
)
def test_tool_choice(choice: dict[str, Any], expected: object) -> None:
    raw = {
        "model": "m",
        "max_tokens": 9,
        "messages": [{"role": "user", "content": "x"}],
        "tools": [READ_TOOL],
        "tool_choice": choice,
    }
    assert chat_ok(chat_request(raw))["tool_choice"] == expected


def test_tool_choice_without_tools_is_left_out_and_structured_output_is_a_schema() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}},
        "required": ["n"],
        "additionalProperties": False,
    }
    raw = {
        "model": "m",
        "max_tokens": 9,
        "messages": [{"role": "user", "content": "x"}],
        "tool_choice": {"type": "auto"},
        "output_config": {"format": {"type": "json_schema", "schema": schema}, "effort": "high"},
        "stream": False,
    }
    assert chat_ok(chat_request(raw)) == {
        "model": "m",
        "max_completion_tokens": 9,
        "messages": [{"role": "user", "content": "x"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}},
        "stream": False,
    }


@pytest.mark.parametrize(
    ("extra", "param", "code"),
    [
        ({"max_tokens": None}, "max_tokens", None),
        ({"max_tokens": "100"}, "max_tokens", None),
        ({"max_tokens": True}, "max_tokens", None),
        ({"max_tokens": 0}, "max_tokens", None),
        ({"stop_sequences": ["END", 3]}, "stop_sequences[1]", None),
        ({"model": 3}, "model", None),
        ({"messages": "hi"}, "messages", None),
        ({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}, "tools[0].type", "unsupported_feature"),
        ({"tools": [{"type": "bash_20250124", "name": "bash"}]}, "tools[0].type", "unsupported_feature"),
        ({"tools": [{"name": "f"}]}, "tools[0].input_schema", None),
        ({"tools": [READ_TOOL], "tool_choice": {"type": "sometimes"}}, "tool_choice.type", None),
        ({"tools": [READ_TOOL], "tool_choice": {"type": "tool"}}, "tool_choice.name", None),
        ({"mcp_servers": [{"type": "url", "url": "https://mcp", "name": "m"}]}, "mcp_servers", "unsupported_feature"),
        ({"container": "container_1"}, "container", "unsupported_feature"),
        ({"frequency_penalty": 1}, "frequency_penalty", "unsupported_feature"),
        ({"stop_sequences": "END"}, "stop_sequences", None),
        ({"metadata": {"user_id": 7}}, "metadata.user_id", None),
        ({"output_config": {"format": {"type": "xml"}}}, "output_config.format.type", None),
        ({"stream": "true"}, "stream", None),
    ],
)
def test_what_cannot_be_translated_is_a_400_naming_the_field(
    extra: dict[str, Any], param: str, code: str | None
) -> None:
    raw = {"model": "m", "max_tokens": 9, "messages": [{"role": "user", "content": "x"}], **extra}
    with pytest.raises(InvalidRequest) as caught:
        chat_request(raw)
    assert (caught.value.status, caught.value.param, caught.value.code) == (400, param, code)
    body: ErrorResponse = validate(ErrorResponse, error_body(caught.value.status, caught.value.message))
    assert body.error.type == "invalid_request_error"


def test_every_documented_request_field_has_a_decision() -> None:
    """A field the SDK can send is mapped, has no effect, or is refused: never 'extra inputs'."""
    fields = set(typing.get_type_hints(message_create_params.MessageCreateParamsBase)) | {"stream"}
    fields |= {"temperature", "top_p", "top_k", "mcp_servers", "context_management"}  # older and beta SDKs send these
    decided = anthropic_api._HANDLED | anthropic_api._NO_EFFECT | anthropic_api._REFUSED
    assert fields <= decided, sorted(fields - decided)


# --- messages ---------------------------------------------------------------------------------


def test_a_text_answer() -> None:
    message: Message = validate(Message, message_body(completion(), {"model": "auto", "max_tokens": 9}))
    assert (message.id, message.model, message.role, message.stop_reason, message.stop_sequence) == (
        "msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "gpt-4o-mini-2024-07-18",
        "assistant",
        "end_turn",
        None,
    )
    assert [block.model_dump() for block in message.content] == [
        {"type": "text", "text": "Paris is the capital of France.", "citations": None}
    ]
    assert message.usage.model_dump(exclude_none=True) == {
        "input_tokens": 20,
        "output_tokens": 30,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 100,
    }


def test_tool_calls_are_tool_use_blocks() -> None:
    chat = completion(
        "Let me read it.",
        tool_calls=[tool_call("call_1", "Read", '{"path": "a.py"}'), tool_call("call_2", "Read", "not json")],
        finish_reason="tool_calls",
    )
    message: Message = validate(Message, message_body(chat, {"model": "auto"}))
    assert message.stop_reason == "tool_use"
    assert [block.type for block in message.content] == ["text", "tool_use", "tool_use"]
    first, second = message.content[1], message.content[2]
    assert first.type == "tool_use" and (first.id, first.name, first.input) == ("call_1", "Read", {"path": "a.py"})
    assert second.type == "tool_use" and second.input == {}


@pytest.mark.parametrize(
    ("finish", "reason"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("content_filter", "refusal"),
        (None, "end_turn"),
    ],
)
def test_stop_reasons(finish: str | None, reason: str) -> None:
    chat = completion()
    chat["choices"][0]["finish_reason"] = finish
    message: Message = validate(Message, message_body(chat, {"model": "m"}))
    assert message.stop_reason == reason


def test_a_refusal_is_text_and_litellm_cache_usage_is_read() -> None:
    usage = {
        "prompt_tokens": 1200,
        "completion_tokens": 5,
        "total_tokens": 1205,
        "cache_creation_input_tokens": 1000,
        "prompt_tokens_details": {"cached_tokens": 150},
    }
    chat = completion(None, refusal="I can't help with that.", finish_reason="content_filter", usage=usage)
    message: Message = validate(Message, message_body(chat, {"model": "m"}))
    assert message.content[0].type == "text" and message.content[0].text == "I can't help with that."
    assert (
        message.usage.input_tokens,
        message.usage.cache_creation_input_tokens,
        message.usage.cache_read_input_tokens,
    ) == (50, 1000, 150)


def test_an_empty_answer_without_usage() -> None:
    message: Message = validate(Message, message_body(completion("", usage=None), {"model": "m"}))
    assert message.content == [] and (message.usage.input_tokens, message.usage.output_tokens) == (0, 0)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "invalid_request_error"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (502, "api_error"),
        (503, "overloaded_error"),
        (504, "timeout_error"),
        (529, "overloaded_error"),
    ],
)
def test_error_bodies(status: int, kind: str) -> None:
    body: ErrorResponse = validate(ErrorResponse, error_body(status, "something went wrong"))
    assert (body.type, body.error.type, body.error.message) == ("error", kind, "something went wrong")


# --- through the anthropic SDK, as an application would ---------------------------------------


def sdk(answer: dict[str, Any], seen: list[dict[str, Any]]) -> anthropic.Anthropic:
    """An anthropic client whose /v1/messages is our translation around a fixed chat answer (or a 400)."""

    def handle(request: httpx2.Request) -> httpx2.Response:
        raw = orjson.loads(request.content)
        try:
            seen.append(chat_ok(chat_request(raw)))
        except InvalidRequest as exc:
            return httpx2.Response(exc.status, json=error_body(exc.status, exc.message))
        return httpx2.Response(200, json=message_body(answer, raw))

    client = httpx2.Client(transport=httpx2.MockTransport(handle))
    return anthropic.Anthropic(api_key="sk-ant-test", base_url="http://triage.test", http_client=client, max_retries=0)


def test_the_sdk_round_trip() -> None:
    seen: list[dict[str, Any]] = []
    answer = completion(
        "Reading.", tool_calls=[tool_call("call_1", "Read", '{"path":"a.py"}')], finish_reason="tool_calls"
    )
    with sdk(answer, seen) as client:
        message = client.messages.create(
            model="auto",
            max_tokens=1024,
            system="Be brief.",
            tools=[READ_TOOL],
            messages=[
                {"role": "user", "content": "Open a.py"},
                {
                    "role": "assistant",
                    "content": [{"type": "tool_use", "id": "call_0", "name": "Read", "input": {"path": "b.py"}}],
                },
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "call_0", "content": "print(1)"}]},
            ],
        )
    assert message.stop_reason == "tool_use"
    assert message.content[1].type == "tool_use" and message.content[1].input == {"path": "a.py"}
    assert [m["role"] for m in seen[0]["messages"]] == ["system", "user", "assistant", "tool"]


def test_the_sdk_sees_a_400_in_its_own_error_type() -> None:
    with sdk(completion(), []) as client, pytest.raises(anthropic.BadRequestError) as caught:
        client.messages.create(
            model="auto", max_tokens=9, messages=[{"role": "user", "content": "x"}], extra_body={"container": "c_1"}
        )
    assert caught.value.status_code == 400
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "container is not supported"},
    }
