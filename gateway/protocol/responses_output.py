"""The pieces of a ``Response`` object: ids, output items, usage, and the envelope that echoes the request.

Ids derive from the chat completion's id (``chatcmpl-abc`` → ``resp_abc``, ``msg_abc``), and a
function call item's id from its call id (``call_xyz`` → ``fc_xyz``), so a stream and the
``Response`` it ends with name the same items. Fields the chat path cannot know are echoed from
the request (``instructions``, ``tools``, ``tool_choice``, ``text``, ``temperature``...) with the
Responses API's defaults. ``store`` is not echoed (the SDK's ``Response`` has no such field).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def message_id(suffix: str, nth: int = 0) -> str:
    return f"msg_{suffix}" if nth == 0 else f"msg_{suffix}_{nth}"


def call_item_id(call_id: str) -> str:
    return "fc_" + call_id.removeprefix("call_")


def text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def refusal_part(text: str) -> dict[str, Any]:
    return {"type": "refusal", "refusal": text}


def message_item(item_id: str, status: str, content: list[dict[str, Any]]) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "role": "assistant", "status": status, "content": content}


def call_item(call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    return {
        "id": call_item_id(call_id),
        "type": "function_call",
        "status": status,
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


def output_items(suffix: str, message: Mapping[str, Any], status: str) -> list[dict[str, Any]]:
    """The output items for a chat completion's message: its text or refusal, then its tool calls."""
    parts: list[dict[str, Any]] = []
    if isinstance(message.get("refusal"), str) and message["refusal"]:
        parts.append(refusal_part(message["refusal"]))
    if isinstance(message.get("content"), str) and message["content"]:
        parts.append(text_part(message["content"]))
    items = [message_item(message_id(suffix), status, parts)] if parts else []
    calls = message.get("tool_calls")
    for call in calls if isinstance(calls, list) else []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            name, arguments = str(function.get("name") or ""), str(function.get("arguments") or "")
            items.append(call_item(str(call.get("id") or ""), name, arguments, "completed"))
    return items


def usage(chat_usage: object) -> dict[str, Any] | None:
    """Chat-completions usage as Responses usage (cache writes: OpenAI's ``cache_write_tokens`` or litellm's
    ``cache_creation_input_tokens``)."""
    if not isinstance(chat_usage, dict):
        return None
    prompt, completion = _int(chat_usage.get("prompt_tokens")), _int(chat_usage.get("completion_tokens"))
    prompt_details = chat_usage.get("prompt_tokens_details")
    completion_details = chat_usage.get("completion_tokens_details")
    if not isinstance(prompt_details, dict):
        prompt_details = {}
    cached = _int(prompt_details.get("cached_tokens"))
    written = _int(prompt_details.get("cache_write_tokens")) or _int(chat_usage.get("cache_creation_input_tokens"))
    reasoning = _int(completion_details.get("reasoning_tokens")) if isinstance(completion_details, dict) else 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": written},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": _int(chat_usage.get("total_tokens")) or prompt + completion,
    }


def response_object(
    request: Mapping[str, Any],
    *,
    suffix: str,
    created: object,
    model: str,
    status: str,
    output: list[dict[str, Any]],
    chat_usage: object = None,
    incomplete: str | None = None,
    error: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A ``Response`` with ``status``, ``output`` and usage, echoing ``request``."""
    reasoning = request.get("reasoning")
    text = dict(request["text"]) if isinstance(request.get("text"), dict) else {}
    text.setdefault("format", {"type": "text"})
    parallel = request.get("parallel_tool_calls")
    return {
        "id": f"resp_{suffix}",
        "object": "response",
        "created_at": _int(created),
        "status": status,
        "background": False,
        "error": dict(error) if error is not None else None,
        "incomplete_details": {"reason": incomplete} if incomplete is not None else None,
        "instructions": request.get("instructions"),
        "max_output_tokens": request.get("max_output_tokens"),
        "metadata": request.get("metadata") or {},
        "model": model or str(request.get("model") or ""),
        "output": output,
        "parallel_tool_calls": parallel if isinstance(parallel, bool) else True,
        "previous_response_id": None,
        "prompt_cache_key": request.get("prompt_cache_key"),
        "reasoning": (
            {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")}
            if isinstance(reasoning, dict)
            else None
        ),
        "safety_identifier": request.get("safety_identifier"),
        "temperature": _number(request.get("temperature"), 1.0),
        "text": text,
        "tool_choice": request.get("tool_choice") or "auto",
        "tools": request.get("tools") or [],
        "top_p": _number(request.get("top_p"), 1.0),
        "truncation": request.get("truncation") or "disabled",
        "usage": usage(chat_usage),
        "user": request.get("user"),
    }


def _int(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _number(value: object, default: float) -> float:
    return value if isinstance(value, int | float) and not isinstance(value, bool) else default
