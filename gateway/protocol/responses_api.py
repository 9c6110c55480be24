"""The OpenAI Responses API (``POST /v1/responses``), translated to and from chat completions.

``chat_request`` turns a Responses request into a chat-completions request body, which then
takes the chat path unchanged (routing, policy, cache, upstream, metrics);
``response_body`` turns the chat completion back into a ``Response`` object, and
``responses_stream.stream_events`` does the same for a stream.

Triage stores nothing, so the stateful parts of the API are refused with a 400
(``unsupported_feature``): ``previous_response_id`` and ``conversation`` (send the whole
conversation in ``input``), ``background``, stored ``prompt`` templates, item references,
``context_management`` and ``moderation``. Built-in tools (web search, file search, computer
use, code interpreter, MCP, shell, custom tools...) are refused too: only function tools
map onto chat completions. ``store`` is accepted and ignored.

``reasoning.effort`` becomes chat's ``reasoning_effort``, the same knob under its chat name,
so a Responses client gets exactly what a chat client setting it gets (litellm's own bridge
does the same); ``reasoning.summary`` has no chat equivalent and is dropped, and reasoning
items sent back in ``input`` are dropped (Triage never produces them). ``include``,
``truncation``, ``metadata``, ``max_tool_calls``, ``stream_options`` and the prompt-cache
options are accepted and have no effect on the chat request. Function tools are strict only
when the client says so (``strict``), since the routed model may not support strict schemas.
Any other field is refused, naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from gateway.protocol.chat_sse import first_choice, id_suffix
from gateway.protocol.errors import InvalidRequest
from gateway.protocol.fields import check, need, positive, unsupported
from gateway.protocol.responses_input import chat_messages
from gateway.protocol.responses_output import output_items, response_object

# Responses fields copied to the chat request under the same name.
_SAME_NAME = ("temperature", "top_p", "user", "service_tier", "prompt_cache_key", "safety_identifier")
# Fields that do not change the chat request (see the module docstring).
_NO_EFFECT = frozenset(
    {
        "store",
        "metadata",
        "include",
        "truncation",
        "max_tool_calls",
        "stream_options",
        "prompt_cache_retention",
        "prompt_cache_options",
    }
)
_STATEFUL = "Triage stores no responses; send the whole conversation in `input`"
_REFUSED: Mapping[str, str] = MappingProxyType(
    {
        "previous_response_id": f"previous_response_id is not supported: {_STATEFUL}",
        "conversation": f"conversation is not supported: {_STATEFUL}",
        "background": "background responses are not supported: Triage stores no responses",
        "prompt": "stored prompt templates are not supported: send instructions and input instead",
        "context_management": "context_management is not supported",
        "moderation": "moderation is not supported",
        "top_logprobs": "top_logprobs is not supported on /v1/responses; use /v1/chat/completions",
    }
)
_HANDLED = frozenset(
    {
        "model",
        "input",
        "instructions",
        "max_output_tokens",
        "parallel_tool_calls",
        "tools",
        "tool_choice",
        "text",
        "reasoning",
        "stream",
    }
)
_TOOL_CHOICES = frozenset({"auto", "none", "required"})


def chat_request(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The chat-completions request body for a Responses request; ``InvalidRequest`` if it has none."""
    for key, value in raw.items():
        if value is None or key in _HANDLED or key in _NO_EFFECT or key in _SAME_NAME:
            continue
        if key in _REFUSED:
            if key == "background" and value is False:
                continue
            raise unsupported(key, _REFUSED[key])
        raise unsupported(key, f"unknown parameter: {key}")
    model = need(raw, "model", str, "model")
    chat: dict[str, Any] = {"model": model, "messages": _messages(raw)}
    for key in _SAME_NAME:
        if raw.get(key) is not None:
            chat[key] = raw[key]
    if raw.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = positive(raw, "max_output_tokens", "max_output_tokens")
    tools = _tools(raw.get("tools"))
    if tools:
        chat["tools"] = tools
        if raw.get("tool_choice") is not None:
            chat["tool_choice"] = _tool_choice(raw["tool_choice"])
        if raw.get("parallel_tool_calls") is not None:
            chat["parallel_tool_calls"] = need(raw, "parallel_tool_calls", bool, "parallel_tool_calls")
    chat.update(_text(raw.get("text")))
    effort = _effort(raw.get("reasoning"))
    if effort is not None:
        chat["reasoning_effort"] = effort
    if raw.get("stream") is not None:
        stream = need(raw, "stream", bool, "stream")
        chat["stream"] = stream
        if stream:
            chat["stream_options"] = {"include_usage": True}
    return chat


def response_body(chat: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Response`` object for a chat completion that answers ``chat_request(request)``."""
    choice = first_choice(chat)
    message: Mapping[str, Any] = choice["message"] if isinstance(choice.get("message"), dict) else {}
    incomplete = incomplete_reason(choice.get("finish_reason"))
    suffix = id_suffix(str(chat.get("id") or ""))
    return response_object(
        request,
        suffix=suffix,
        created=chat.get("created"),
        model=str(chat.get("model") or ""),
        status="incomplete" if incomplete else "completed",
        output=output_items(suffix, message, "incomplete" if incomplete else "completed"),
        chat_usage=chat.get("usage"),
        incomplete=incomplete,
    )


def incomplete_reason(finish_reason: object) -> str | None:
    """Why a response with this chat ``finish_reason`` is incomplete, or ``None`` if it is complete."""
    if finish_reason == "length":
        return "max_output_tokens"
    if finish_reason == "content_filter":
        return "content_filter"
    return None


def _messages(raw: Mapping[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    instructions = raw.get("instructions")
    if instructions is not None:
        if not isinstance(instructions, str):
            raise InvalidRequest("instructions must be a string", param="instructions")
        if instructions:
            messages.append({"role": "system", "content": instructions})
    value = raw.get("input")
    if isinstance(value, str):
        messages.append({"role": "user", "content": value})
    elif isinstance(value, list):
        messages.extend(chat_messages(value))
    else:
        raise InvalidRequest("input must be a string or a list of input items", param="input")
    if not messages:
        raise InvalidRequest("input must not be empty", param="input")
    return messages


def _tools(value: object) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidRequest("tools must be a list", param="tools")
    tools: list[dict[str, Any]] = []
    for i, tool in enumerate(value):
        param = f"tools[{i}]"
        if not isinstance(tool, dict):
            raise InvalidRequest(f"{param} must be an object", param=param)
        kind = tool.get("type")
        if kind != "function":
            raise unsupported(
                f"{param}.type",
                f"tool type {kind!r} is not supported: Triage routes to chat-completions models, "
                "which take function tools only",
            )
        function: dict[str, Any] = {"name": need(tool, "name", str, f"{param}.name")}
        for key in ("description", "parameters", "strict"):
            if tool.get(key) is not None:
                function[key] = tool[key]
        tools.append({"type": "function", "function": function})
    return tools


def _tool_choice(value: object) -> str | dict[str, Any]:
    if isinstance(value, str) and value in _TOOL_CHOICES:
        return value
    if isinstance(value, dict) and value.get("type") == "function":
        return {"type": "function", "function": {"name": need(value, "name", str, "tool_choice.name")}}
    if isinstance(value, dict) and isinstance(value.get("type"), str):
        raise unsupported("tool_choice", f"tool_choice of type {value['type']!r} is not supported")
    raise InvalidRequest(
        'tool_choice must be "auto", "none", "required" or {"type": "function", "name": ...}', param="tool_choice"
    )


def _text(value: object) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidRequest("text must be an object", param="text")
    chat: dict[str, Any] = {}
    if value.get("verbosity") is not None:
        chat["verbosity"] = value["verbosity"]
    form = value.get("format")
    if form is None:
        return chat
    form = check(form, dict, "text.format")
    kind = form.get("type")
    if kind == "json_object":
        chat["response_format"] = {"type": "json_object"}
    elif kind == "json_schema":
        schema: dict[str, Any] = {"name": need(form, "name", str, "text.format.name")}
        schema["schema"] = need(form, "schema", dict, "text.format.schema")
        for key in ("description", "strict"):
            if form.get(key) is not None:
                schema[key] = form[key]
        chat["response_format"] = {"type": "json_schema", "json_schema": schema}
    elif kind != "text":
        raise InvalidRequest('text.format.type must be "text", "json_object" or "json_schema"', param="text.format")
    return chat


def _effort(value: object) -> str | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise InvalidRequest("reasoning must be an object", param="reasoning")
    effort = value.get("effort")
    if effort is not None and not isinstance(effort, str):
        raise InvalidRequest("reasoning.effort must be a string", param="reasoning.effort")
    return effort
