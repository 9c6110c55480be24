"""The Anthropic Messages API (``POST /v1/messages``), translated to and from chat completions.

``chat_request`` turns a Messages request into a chat-completions request body, which takes the
chat path unchanged; ``message_body`` turns the chat completion back into a ``Message``, and
``anthropic_stream.stream_events`` does the same for a stream. ``error_body`` is the error
shape for an HTTP status (``{"type": "error", "error": {"type", "message"}}``). Invalid
requests raise ``InvalidRequest`` naming the field, to be rendered with ``error_body``.

Mapping: ``max_tokens`` (required, at least 1) → ``max_completion_tokens``; ``system`` → a leading system
message; ``stop_sequences`` → ``stop``; ``metadata.user_id`` → ``user``; ``tools`` → function
tools (``input_schema`` as ``parameters``); ``tool_choice`` auto/any/tool/none →
auto/required/function/none, and ``disable_parallel_tool_use`` → ``parallel_tool_calls:
false``; ``output_config.format`` (a JSON schema) → ``response_format`` json_schema, not strict
(Anthropic schemas need not satisfy OpenAI's strict rules); ``stream`` → ``stream`` with usage
asked for. ``temperature`` and ``top_p`` are kept.

Dropped, by decision: ``thinking`` and ``output_config.effort`` (Claude's thinking has no
chat equivalent a routed model is sure to accept, its output blocks need signatures Triage
cannot make, and clients such as Claude Code send it on every request, so refusing it would
refuse them), ``top_k`` (chat has none), ``service_tier``, ``cache_control``, ``speed``,
``inference_geo``, ``diagnostics`` and the account fields. Refused with a 400: server tools
(web search, code execution, bash, computer use...), ``container``, ``mcp_servers``,
``context_management``, and any unknown field (as Anthropic itself does).

Stop reasons: ``stop`` → ``end_turn`` (chat does not say whether a stop sequence matched, so
``stop_sequence`` is never reported), ``length`` → ``max_tokens``, ``tool_calls`` →
``tool_use``, ``content_filter`` → ``refusal``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import orjson

from gateway.protocol.anthropic_input import chat_messages, system_message
from gateway.protocol.chat_sse import first_choice, id_suffix
from gateway.protocol.errors import InvalidRequest
from gateway.protocol.fields import check, need, positive, unsupported

_NO_EFFECT = frozenset(
    {
        "top_k",
        "thinking",
        "service_tier",
        "cache_control",
        "speed",
        "inference_geo",
        "diagnostics",
        "user_profile_id",
        "workspace_id",
    }
)
_REFUSED = frozenset({"container", "mcp_servers", "context_management"})
_HANDLED = frozenset(
    {
        "model",
        "max_tokens",
        "messages",
        "system",
        "stop_sequences",
        "temperature",
        "top_p",
        "metadata",
        "tools",
        "tool_choice",
        "output_config",
        "stream",
    }
)
_STOP_REASONS: Mapping[str, str] = MappingProxyType(
    {
        "stop": "end_turn",
        "length": "max_tokens",
        "tool_calls": "tool_use",
        "function_call": "tool_use",
        "content_filter": "refusal",
    }
)
_ERROR_TYPES: Mapping[int, str] = MappingProxyType(
    {
        400: "invalid_request_error",
        401: "authentication_error",
        402: "billing_error",
        403: "permission_error",
        404: "not_found_error",
        429: "rate_limit_error",
        503: "overloaded_error",
        504: "timeout_error",
        529: "overloaded_error",
    }
)


def chat_request(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The chat-completions request body for a Messages request; ``InvalidRequest`` if it has none."""
    for key, value in raw.items():
        if key in _REFUSED and value is not None:
            raise unsupported(key, f"{key} is not supported")
        if key not in _HANDLED and key not in _NO_EFFECT and key not in _REFUSED:
            raise unsupported(key, f"{key}: extra inputs are not permitted")
    chat: dict[str, Any] = {
        "model": need(raw, "model", str, "model"),
        "max_completion_tokens": positive(raw, "max_tokens", "max_tokens"),
    }
    system = system_message(raw.get("system"))
    chat["messages"] = ([system] if system is not None else []) + chat_messages(raw.get("messages"))
    for key in ("temperature", "top_p"):
        if raw.get(key) is not None:
            chat[key] = raw[key]
    if raw.get("stop_sequences"):
        stops = check(raw["stop_sequences"], list, "stop_sequences")
        chat["stop"] = [check(stop, str, f"stop_sequences[{i}]") for i, stop in enumerate(stops)]
    metadata = check(raw.get("metadata") or {}, dict, "metadata")
    if metadata.get("user_id") is not None:
        chat["user"] = check(metadata["user_id"], str, "metadata.user_id")
    chat.update(_tools(raw))
    output = check(raw.get("output_config") or {}, dict, "output_config")
    if output.get("format") is not None:
        form = check(output["format"], dict, "output_config.format")
        if form.get("type") != "json_schema":
            raise InvalidRequest('output_config.format.type must be "json_schema"', param="output_config.format.type")
        schema = need(form, "schema", dict, "output_config.format.schema")
        chat["response_format"] = {"type": "json_schema", "json_schema": {"name": "output", "schema": schema}}
    if raw.get("stream") is not None:
        chat["stream"] = check(raw["stream"], bool, "stream")
        if chat["stream"]:
            chat["stream_options"] = {"include_usage": True}
    return chat


def message_body(chat: Mapping[str, Any], request: Mapping[str, Any]) -> dict[str, Any]:
    """The ``Message`` for a chat completion that answers ``chat_request(request)``."""
    choice = first_choice(chat)
    message: Mapping[str, Any] = choice["message"] if isinstance(choice.get("message"), dict) else {}
    content: list[dict[str, Any]] = []
    text = message.get("refusal") or message.get("content")
    if isinstance(text, str) and text:
        content.append({"type": "text", "text": text})
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            name, arguments = str(function.get("name") or ""), function.get("arguments")
            content.append(
                {"type": "tool_use", "id": str(call.get("id") or ""), "name": name, "input": _input(arguments)}
            )
    return {
        "id": "msg_" + id_suffix(str(chat.get("id") or "")),
        "type": "message",
        "role": "assistant",
        "model": str(chat.get("model") or request.get("model") or ""),
        "content": content,
        "stop_reason": stop_reason(choice.get("finish_reason")),
        "stop_sequence": None,
        "usage": usage(chat.get("usage")),
    }


def stop_reason(finish_reason: object) -> str:
    """Anthropic's ``stop_reason`` for a chat ``finish_reason``."""
    return _STOP_REASONS.get(str(finish_reason), "end_turn")


def usage(chat_usage: object) -> dict[str, int]:
    """Chat usage as Anthropic usage: ``input_tokens`` excludes the cached tokens, counted apart."""
    if not isinstance(chat_usage, dict):
        return {"input_tokens": 0, "output_tokens": 0}
    details = chat_usage.get("prompt_tokens_details")
    cached = _int(details.get("cached_tokens")) if isinstance(details, dict) else 0
    read = _int(chat_usage.get("cache_read_input_tokens")) or cached
    written = _int(chat_usage.get("cache_creation_input_tokens"))
    return {
        "input_tokens": max(_int(chat_usage.get("prompt_tokens")) - read - written, 0),
        "output_tokens": _int(chat_usage.get("completion_tokens")),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
    }


def error_type(status: int) -> str:
    """Anthropic's error ``type`` for an HTTP status."""
    return _ERROR_TYPES.get(status) or ("api_error" if status >= 500 else "invalid_request_error")


def error_body(status: int, message: str) -> dict[str, Any]:
    """Anthropic's error body for an HTTP status."""
    return {"type": "error", "error": {"type": error_type(status), "message": message}}


def _tools(raw: Mapping[str, Any]) -> dict[str, Any]:
    tools = []
    for i, tool in enumerate(check(raw.get("tools") or [], list, "tools")):
        param = f"tools[{i}]"
        tool = check(tool, dict, param)
        if tool.get("type") not in (None, "custom"):
            raise unsupported(
                f"{param}.type",
                f"server tool {tool['type']!r} is not supported: Triage routes to chat-completions models, "
                "which take client tools only",
            )
        function: dict[str, Any] = {"name": need(tool, "name", str, f"{param}.name")}
        if tool.get("description") is not None:
            function["description"] = check(tool["description"], str, f"{param}.description")
        function["parameters"] = need(tool, "input_schema", dict, f"{param}.input_schema")
        if tool.get("strict") is not None:
            function["strict"] = check(tool["strict"], bool, f"{param}.strict")
        tools.append({"type": "function", "function": function})
    if not tools:
        return {}
    chat: dict[str, Any] = {"tools": tools}
    if raw.get("tool_choice") is None:
        return chat
    choice = check(raw["tool_choice"], dict, "tool_choice")
    kind = choice.get("type")
    if kind in ("auto", "none"):
        chat["tool_choice"] = kind
    elif kind == "any":
        chat["tool_choice"] = "required"
    elif kind == "tool":
        chat["tool_choice"] = {"type": "function", "function": {"name": need(choice, "name", str, "tool_choice.name")}}
    else:
        raise InvalidRequest("tool_choice.type must be auto, any, tool or none", param="tool_choice.type")
    if choice.get("disable_parallel_tool_use") is not None:
        disabled = check(choice["disable_parallel_tool_use"], bool, "tool_choice.disable_parallel_tool_use")
        chat["parallel_tool_calls"] = not disabled
    return chat


def _input(arguments: object) -> dict[str, Any]:
    """A tool call's arguments as a ``tool_use`` input (an object; ``{}`` if they are not one)."""
    if not isinstance(arguments, str) or not arguments:
        return {}
    try:
        value = orjson.loads(arguments)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0
