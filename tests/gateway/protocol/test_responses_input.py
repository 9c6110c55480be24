"""Responses ``input`` items as chat messages, and litellm's own bridge compared on the same items."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.protocol.errors import InvalidRequest
from gateway.protocol.responses_input import chat_messages

IMAGE = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

# A tool-using conversation as Codex-style agents send it back with store=false.
CONVERSATION: list[dict[str, Any]] = [
    {"role": "developer", "content": "Answer tersely."},
    {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "What is in this picture, and what is the weather in Paris?"},
            {"type": "input_image", "image_url": IMAGE, "detail": "low"},
        ],
    },
    {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [],
        "encrypted_content": "gAAAAB...",
    },
    {
        "type": "message",
        "id": "msg_1",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "A red dot. Checking the weather.", "annotations": []}],
    },
    {
        "type": "function_call",
        "id": "fc_1",
        "call_id": "call_1",
        "name": "weather",
        "arguments": '{"city":"Paris"}',
        "status": "completed",
    },
    {"type": "function_call", "call_id": "call_2", "name": "clock", "arguments": "{}"},
    {"type": "function_call_output", "call_id": "call_1", "output": "18°C, clear"},
    {"type": "function_call_output", "call_id": "call_2", "output": [{"type": "input_text", "text": "14:02"}]},
    {"role": "user", "content": "Thanks. Anything else?"},
]

EXPECTED = [
    {"role": "developer", "content": "Answer tersely."},
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in this picture, and what is the weather in Paris?"},
            {"type": "image_url", "image_url": {"url": IMAGE, "detail": "low"}},
        ],
    },
    {
        "role": "assistant",
        "content": [{"type": "text", "text": "A red dot. Checking the weather."}],
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city":"Paris"}'}},
            {"id": "call_2", "type": "function", "function": {"name": "clock", "arguments": "{}"}},
        ],
    },
    {"role": "tool", "tool_call_id": "call_1", "content": "18°C, clear"},
    {"role": "tool", "tool_call_id": "call_2", "content": "14:02"},
    {"role": "user", "content": "Thanks. Anything else?"},
]


def test_a_tool_using_conversation() -> None:
    assert chat_messages(CONVERSATION) == EXPECTED


def test_function_calls_without_an_assistant_message_start_one() -> None:
    items = [
        {"role": "user", "content": "hi"},
        {"type": "function_call", "call_id": "call_9", "name": "f", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_9", "output": "ok"},
        {"type": "function_call", "call_id": "call_10", "name": "f", "arguments": "{}"},
    ]
    messages = chat_messages(items)
    assert [m["role"] for m in messages] == ["user", "assistant", "tool", "assistant"]
    assert messages[1] == {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "call_9", "type": "function", "function": {"name": "f", "arguments": "{}"}}],
    }


def test_files_audio_refusals_and_several_output_parts() -> None:
    items = [
        {
            "role": "user",
            "content": [
                {"type": "input_file", "file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
            ],
        },
        {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
        {"role": "system", "content": [{"type": "input_text", "text": "Be kind."}]},
        {
            "type": "function_call_output",
            "call_id": "c",
            "output": [{"type": "input_text", "text": "a"}, {"type": "input_text", "text": "b"}],
        },
    ]
    assert chat_messages(items) == [
        {
            "role": "user",
            "content": [
                {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "a.pdf"}},
                {"type": "input_audio", "input_audio": {"data": "UklGRg==", "format": "wav"}},
            ],
        },
        {"role": "assistant", "content": [{"type": "text", "text": "No."}]},
        {"role": "system", "content": [{"type": "text", "text": "Be kind."}]},
        {
            "role": "tool",
            "tool_call_id": "c",
            "content": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}],
        },
    ]


@pytest.mark.parametrize(
    ("items", "param", "code"),
    [
        ([{"type": "item_reference", "id": "msg_1"}], "input[0]", "unsupported_feature"),
        ([{"type": "web_search_call", "id": "ws_1", "status": "completed"}], "input[0].type", "unsupported_feature"),
        (
            [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}],
            "input[0].content[0].file_id",
            "unsupported_feature",
        ),
        (
            [{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"}]}],
            "input[0].content[0].file_id",
            "unsupported_feature",
        ),
        (
            [{"role": "user", "content": [{"type": "input_file", "file_url": "https://x/a.pdf"}]}],
            "input[0].content[0].file_url",
            "unsupported_feature",
        ),
        ([{"role": "tool", "content": "x"}], "input[0].role", None),
        ([{"role": "user", "content": 3}], "input[0].content", None),
        ([{"role": "user", "content": [{"type": "input_text"}]}], "input[0].content[0].text", None),
        (
            [{"role": "assistant", "content": [{"type": "input_image", "image_url": IMAGE}]}],
            "input[0].content[0]",
            None,
        ),
        ([{"type": "function_call", "call_id": "c", "name": "f"}], "input[0].arguments", None),
        ([{"type": "function_call_output", "output": "x"}], "input[0].call_id", None),
        (
            [{"type": "function_call_output", "call_id": "c", "output": [{"type": "input_image", "image_url": IMAGE}]}],
            "input[0].output[0]",
            "unsupported_feature",
        ),
        (["hello"], "input[0]", None),
    ],
)
def test_bad_items_are_a_400_naming_the_field(items: list[Any], param: str, code: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        chat_messages(items)
    assert (caught.value.status, caught.value.param, caught.value.code) == (400, param, code)


# --- litellm's Responses → chat bridge, on the same items --------------------------------------


def _litellm(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from litellm.responses.litellm_completion_transformation.transformation import (
        LiteLLMCompletionResponsesConfig,
    )

    messages = LiteLLMCompletionResponsesConfig.transform_responses_api_input_to_messages(items, {})
    return [_plain(dict(m)) for m in messages]


def _plain(message: dict[str, Any]) -> dict[str, Any]:
    """litellm's message without its extras (a tool call's ``index``), keys in our order."""
    if message.get("tool_calls"):
        message["tool_calls"] = [{k: v for k, v in dict(c).items() if k != "index"} for c in message["tool_calls"]]
    return message


def test_litellm_bridges_the_conversation_the_same_way() -> None:
    assert _litellm(CONVERSATION) == EXPECTED == chat_messages(CONVERSATION)


def test_where_litellm_differs_it_guesses_and_we_refuse() -> None:
    """litellm turns an image by file id into an empty image URL and drops an item reference;
    we answer both with a 400 (Triage has no files and stores no items)."""
    by_file = [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}]
    assert _litellm(by_file) == [
        {"role": "user", "content": [{"type": "image_url", "image_url": {"url": "", "detail": "auto"}}]}
    ]
    assert _litellm([{"type": "item_reference", "id": "msg_1"}]) == []
    for items in (by_file, [{"type": "item_reference", "id": "msg_1"}]):
        with pytest.raises(InvalidRequest):
            chat_messages(items)
