"""Anthropic ``messages`` and ``system`` as chat messages, and litellm's own adapter compared on the same payloads."""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from gateway.protocol.anthropic_api import chat_request
from gateway.protocol.anthropic_input import IMAGE_IN_NEXT_MESSAGE, chat_messages, system_message
from gateway.protocol.errors import InvalidRequest

PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="

# A Claude-Code-like turn: text and an image, a tool call with thinking before it, its result, more text.
CONVERSATION: list[dict[str, Any]] = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in shot.png?", "cache_control": {"type": "ephemeral"}},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
            {"type": "image", "source": {"type": "url", "url": "https://example.com/b.jpg"}},
        ],
    },
    {
        "role": "assistant",
        "content": [
            {"type": "thinking", "thinking": "I should read it.", "signature": "EqQBCkgIARABGAIi..."},
            {"type": "text", "text": "Reading the file."},
            {
                "type": "tool_use",
                "id": "toolu_01A09q90qw90lq917835lq9",
                "name": "Read",
                "input": {"path": "shot.png", "limit": 10},
            },
        ],
    },
    {
        "role": "user",
        "content": [
            {
                "type": "tool_result",
                "tool_use_id": "toolu_01A09q90qw90lq917835lq9",
                "content": [{"type": "text", "text": "a red dot"}],
            },
            {"type": "text", "text": "Describe it."},
        ],
    },
    {"role": "assistant", "content": "A red dot on white."},
    {"role": "user", "content": "Thanks."},
]

EXPECTED: list[dict[str, Any]] = [
    {
        "role": "user",
        "content": [
            {"type": "text", "text": "What is in shot.png?"},
            {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
            {"type": "image_url", "image_url": {"url": "https://example.com/b.jpg"}},
        ],
    },
    {
        "role": "assistant",
        "content": "Reading the file.",
        "tool_calls": [
            {
                "id": "toolu_01A09q90qw90lq917835lq9",
                "type": "function",
                "function": {"name": "Read", "arguments": '{"path":"shot.png","limit":10}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "toolu_01A09q90qw90lq917835lq9", "content": "a red dot"},
    {"role": "user", "content": [{"type": "text", "text": "Describe it."}]},
    {"role": "assistant", "content": "A red dot on white."},
    {"role": "user", "content": "Thanks."},
]


def test_a_tool_using_conversation() -> None:
    assert chat_messages(CONVERSATION) == EXPECTED


def test_system_as_a_string_or_text_blocks() -> None:
    assert system_message("Be brief.") == {"role": "system", "content": "Be brief."}
    blocks = [{"type": "text", "text": "A."}, {"type": "text", "text": "B.", "cache_control": {"type": "ephemeral"}}]
    assert system_message(blocks) == {
        "role": "system",
        "content": [{"type": "text", "text": "A."}, {"type": "text", "text": "B."}],
    }
    assert system_message(None) is None and system_message("") is None and system_message([]) is None


def test_images_in_a_tool_result_move_to_the_next_user_message() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    message = {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "t1", "content": [image]},
            {
                "type": "tool_result",
                "tool_use_id": "t2",
                "content": [{"type": "text", "text": "see:"}, image],
                "is_error": True,
            },
            {"type": "tool_result", "tool_use_id": "t3"},
            {"type": "text", "text": "What do they show?"},
        ],
    }
    url = {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    assert chat_messages([message]) == [
        {"role": "tool", "tool_call_id": "t1", "content": IMAGE_IN_NEXT_MESSAGE},
        {"role": "tool", "tool_call_id": "t2", "content": "see:"},
        {"role": "tool", "tool_call_id": "t3", "content": ""},
        {"role": "user", "content": [url, url, {"type": "text", "text": "What do they show?"}]},
    ]


def test_documents_become_files_or_text() -> None:
    pdf = {
        "type": "document",
        "title": "report.pdf",
        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
    }
    text = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "plain words"}}
    assert chat_messages([{"role": "user", "content": [pdf, text]}]) == [
        {
            "role": "user",
            "content": [
                {
                    "type": "file",
                    "file": {"file_data": "data:application/pdf;base64,JVBERi0=", "filename": "report.pdf"},
                },
                {"type": "text", "text": "plain words"},
            ],
        }
    ]


def test_an_assistant_turn_of_only_thinking_is_dropped() -> None:
    messages = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "x"}]},
    ]
    assert chat_messages(messages) == [{"role": "user", "content": "hi"}]


@pytest.mark.parametrize(
    ("messages", "param", "code"),
    [
        ([], "messages", None),
        ([{"role": "system", "content": "x"}], "messages[0].role", None),
        ([{"role": "user", "content": None}], "messages[0].content", None),
        (
            [{"role": "user", "content": [{"type": "image", "source": {"type": "file", "file_id": "file_1"}}]}],
            "messages[0].content[0].source.type",
            "unsupported_feature",
        ),
        (
            [{"role": "user", "content": [{"type": "document", "source": {"type": "url", "url": "https://x/a.pdf"}}]}],
            "messages[0].content[0].source.type",
            "unsupported_feature",
        ),
        (
            [{"role": "user", "content": [{"type": "search_result", "source": "s", "title": "t", "content": []}]}],
            "messages[0].content[0].type",
            "unsupported_feature",
        ),
        (
            [{"role": "user", "content": [{"type": "tool_result", "content": "x"}]}],
            "messages[0].content[0].tool_use_id",
            None,
        ),
        (
            [
                {
                    "role": "user",
                    "content": [
                        {"type": "tool_result", "tool_use_id": "t", "content": [{"type": "document", "source": {}}]}
                    ],
                }
            ],
            "messages[0].content[0].content[0].type",
            "unsupported_feature",
        ),
        (
            [
                {
                    "role": "assistant",
                    "content": [{"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}}],
                }
            ],
            "messages[0].content[0].type",
            "unsupported_feature",
        ),
        (
            [{"role": "assistant", "content": [{"type": "tool_use", "id": "t", "name": "f", "input": "{}"}]}],
            "messages[0].content[0].input",
            None,
        ),
        (
            [{"role": "user", "content": [{"type": "image", "source": {"type": "base64", "data": PNG}}]}],
            "messages[0].content[0].source.media_type",
            None,
        ),
    ],
)
def test_bad_messages_are_a_400_naming_the_field(messages: list[Any], param: str, code: str | None) -> None:
    with pytest.raises(InvalidRequest) as caught:
        chat_messages(messages)
    assert (caught.value.status, caught.value.param, caught.value.code) == (400, param, code)


def test_a_bad_system_is_a_400() -> None:
    with pytest.raises(InvalidRequest) as caught:
        system_message([{"type": "image", "source": {}}])
    assert caught.value.param == "system[0].type"


# --- litellm's Messages → chat adapter, on the same payloads --------------------------------------


def _litellm(request: dict[str, Any]) -> dict[str, Any]:
    from litellm.llms.anthropic.pass_through.adapters.transformation import LiteLLMAnthropicMessagesAdapter

    chat, _names = LiteLLMAnthropicMessagesAdapter().translate_anthropic_to_openai(copy.deepcopy(request))
    return dict(chat)


def _comparable(messages: list[Any]) -> list[dict[str, Any]]:
    """Messages without null fields, tool-call arguments parsed (the two serialise JSON differently)."""
    plain = []
    for message in messages:
        message = {k: v for k, v in dict(message).items() if v is not None}
        if message.get("tool_calls"):
            message["tool_calls"] = [
                {**call, "function": {**call["function"], "arguments": orjson.loads(call["function"]["arguments"])}}
                for call in message["tool_calls"]
            ]
        plain.append(message)
    return plain


TOOLS = [
    {
        "name": "Read",
        "description": "Read a file from disk.",
        "input_schema": {"type": "object", "properties": {"path": {"type": "string"}}, "required": ["path"]},
    }
]


@pytest.mark.parametrize(
    "tool_choice",
    [None, {"type": "auto"}, {"type": "any"}, {"type": "tool", "name": "Read"}, {"type": "none"}],
)
def test_litellm_maps_messages_tools_and_tool_choice_the_same_way(tool_choice: dict[str, Any] | None) -> None:
    """Compared on a non-Claude target (``gpt-4o-mini``), where litellm drops ``cache_control`` too."""
    without_thinking = copy.deepcopy(CONVERSATION)
    del without_thinking[1]["content"][0]  # litellm keeps thinking as litellm-only fields; we drop it
    request: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "max_tokens": 512,
        "system": "Be brief.",
        "messages": without_thinking,
        "tools": TOOLS,
    }
    if tool_choice is not None:
        request["tool_choice"] = tool_choice
    theirs, ours = _litellm(request), chat_request(request)
    assert _comparable(theirs["messages"]) == _comparable(ours["messages"])
    assert ours["messages"][0] == {"role": "system", "content": "Be brief."}
    assert theirs["tools"] == ours["tools"]
    assert theirs.get("tool_choice") == ours.get("tool_choice")


def test_where_litellm_differs() -> None:
    """litellm forwards what it does not translate (``max_tokens``, ``top_k``) for its own provider
    layer to sort out, turns ``thinking`` into ``reasoning_effort`` for a non-Claude target, keeps
    thinking blocks in litellm-only fields, ignores ``disable_parallel_tool_use``, and sends a PDF as
    an image URL. We send chat parameters only, and drop thinking."""
    request: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "max_tokens": 512,
        "top_k": 5,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "metadata": {"user_id": "user_1"},
        "stop_sequences": ["END"],
        "tools": TOOLS,
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": True},
        "messages": [
            *CONVERSATION[:2],
            {
                "role": "user",
                "content": [
                    {
                        "type": "document",
                        "source": {"type": "base64", "media_type": "application/pdf", "data": "JVBERi0="},
                    }
                ],
            },
        ],
    }
    theirs, ours = _litellm(request), chat_request(request)
    assert (theirs["max_tokens"], theirs["top_k"], theirs["reasoning_effort"]) == (512, 5, "medium")
    assert ours["max_completion_tokens"] == 512
    assert not {"max_tokens", "top_k", "thinking", "reasoning_effort"} & set(ours)
    assert theirs["messages"][1]["thinking_blocks"][0]["thinking"] == "I should read it."
    assert "thinking_blocks" not in ours["messages"][1]
    assert "parallel_tool_calls" not in theirs and ours["parallel_tool_calls"] is False
    assert theirs["messages"][2]["content"][0]["type"] == "image_url"
    assert ours["messages"][2]["content"][0]["type"] == "file"
    assert (theirs["user"], theirs["stop"]) == (ours["user"], ours["stop"]) == ("user_1", ["END"])
