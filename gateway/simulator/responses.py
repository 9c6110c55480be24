"""``POST /v1/responses``: the OpenAI Responses API, answered by translating the request into a chat completion.

``input`` (a string, or items: messages whose ``content`` is a string or ``input_text`` / ``output_text`` parts,
``function_call`` and ``function_call_output``) and ``instructions`` become chat messages; function ``tools``,
``tool_choice``, ``text.format`` (``text``, ``json_object``, ``json_schema`` with ``strict``) and
``max_output_tokens`` become their chat equivalents, so the answer text, tool calls and JSON instances are the
chat endpoint's. The Response object and its event stream are built in :mod:`gateway.simulator.response_events`.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from gateway.simulator.chat import build_plan
from gateway.simulator.content import content_text
from gateway.simulator.options import RequestError, positive_int
from gateway.simulator.paced import Context, Reply, check_number, text_model
from gateway.simulator.response_events import Answer, new_ids, response_object, response_stream

_ROLES = MappingProxyType({"user": "user", "assistant": "assistant", "system": "system", "developer": "system"})


def _bad_input(index: int, problem: str) -> RequestError:
    return RequestError(400, f"Invalid 'input[{index}]': {problem}", param=f"input[{index}]")


def _text(value: Any, index: int) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(part, dict) and isinstance(part.get("type"), str) for part in value):
        return content_text(value)
    raise _bad_input(index, "content must be a string or an array of content parts.")


def _item(item: Any, index: int) -> dict[str, Any]:
    """One input item as a chat message."""
    if not isinstance(item, dict):
        raise _bad_input(index, "expected an object.")
    kind = item.get("type", "message")
    if kind == "message":
        role = _ROLES.get(str(item.get("role")))
        if role is None:
            raise _bad_input(index, "role must be 'user', 'assistant', 'system' or 'developer'.")
        return {"role": role, "content": _text(item.get("content"), index)}
    call_id = item.get("call_id")
    if not isinstance(call_id, str) or not call_id:
        raise _bad_input(index, f"a {kind} item needs a 'call_id'.")
    if kind == "function_call":
        name, arguments = item.get("name"), item.get("arguments")
        if not isinstance(name, str) or not isinstance(arguments, str):
            raise _bad_input(index, "a function_call item needs a 'name' and 'arguments' (a string).")
        call = {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}
        return {"role": "assistant", "content": None, "tool_calls": [call]}
    if kind == "function_call_output":
        return {"role": "tool", "tool_call_id": call_id, "content": _text(item.get("output"), index)}
    raise _bad_input(index, f"unsupported item type {kind!r}.")


def parse_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    """``instructions`` and ``input`` as chat messages; raises RequestError."""
    instructions, value = body.get("instructions"), body.get("input")
    if instructions is not None and not isinstance(instructions, str):
        raise RequestError(400, "Invalid value for 'instructions': expected a string.", param="instructions")
    messages = [{"role": "system", "content": instructions}] if instructions else []
    if isinstance(value, str) and value:
        return [*messages, {"role": "user", "content": value}]
    if isinstance(value, list) and value:
        return [*messages, *(_item(item, i) for i, item in enumerate(value))]
    raise RequestError(400, "'input' must be a non-empty string or a non-empty array of items.", param="input")


def parse_tools(value: Any) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(the function tools in chat's shape, the tools as a Response repeats them); raises RequestError."""
    if value is None:
        return [], []
    if not isinstance(value, list) or not all(isinstance(tool, dict) for tool in value):
        raise RequestError(400, "Invalid value for 'tools': expected an array of tools.", param="tools")
    chat_tools, echoed = [], []
    for index, tool in enumerate(value):
        if tool.get("type") != "function":
            echoed.append(tool)
            continue
        name, parameters = tool.get("name"), tool.get("parameters")
        if not isinstance(name, str) or not name:
            raise RequestError(400, f"Missing required parameter: 'tools[{index}].name'.", param=f"tools[{index}].name")
        function = {"name": name, "parameters": parameters}
        chat_tools.append({"type": "function", "function": function})
        strict = tool.get("strict", True)
        echoed.append({"type": "function", "description": tool.get("description"), **function, "strict": strict})
    return chat_tools, echoed


def _tool_choice(value: Any) -> Any:
    """The chat ``tool_choice`` for a Responses one."""
    if value is None or value in ("auto", "none", "required"):
        return value
    if isinstance(value, dict) and value.get("type") == "function" and isinstance(value.get("name"), str):
        return {"type": "function", "function": {"name": value["name"]}}
    message = "Invalid value for 'tool_choice': expected 'auto', 'none', 'required' or a function."
    raise RequestError(400, message, param="tool_choice")


def _response_format(text: Any) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the chat ``response_format``, the ``text`` config a Response repeats) from the request's ``text``."""
    if text is not None and not isinstance(text, dict):
        raise RequestError(400, "Invalid value for 'text': expected an object.", param="text")
    config = text or {}
    fmt = config.get("format") or {"type": "text"}
    echoed = {"format": fmt, "verbosity": config.get("verbosity") or "medium"}
    if not isinstance(fmt, dict) or fmt.get("type") not in ("text", "json_object", "json_schema"):
        message = "Invalid value for 'text.format.type': expected 'text', 'json_object' or 'json_schema'."
        raise RequestError(400, message, param="text.format")
    if fmt["type"] != "json_schema":
        return {"type": fmt["type"]}, echoed
    spec = {"name": fmt.get("name"), "schema": fmt.get("schema", {"type": "object"}), "strict": fmt.get("strict")}
    return {"type": "json_schema", "json_schema": spec}, echoed


@dataclass(frozen=True, slots=True)
class _Parsed:
    model: str
    messages: list[dict[str, Any]]
    chat_body: dict[str, Any]
    echo: dict[str, Any]


def parse_request(body: Any) -> _Parsed:
    """Check a Responses request and translate it; raises RequestError (400, or 404 for an unknown model)."""
    model = text_model(body)
    messages = parse_messages(body)
    if body.get("previous_response_id") is not None:
        message = f"Previous response with id '{body['previous_response_id']}' not found (the simulator keeps none)."
        raise RequestError(400, message, param="previous_response_id", code="previous_response_not_found")
    check_number(body, "temperature", 0.0, 2.0)
    check_number(body, "top_p", 0.0, 1.0)
    chat_tools, tools = parse_tools(body.get("tools"))
    response_format, text = _response_format(body.get("text"))
    max_output_tokens = positive_int(body, "max_output_tokens")
    chat_body = {
        "stream": body.get("stream") is True,
        "max_tokens": max_output_tokens,
        "tools": chat_tools,
        "tool_choice": _tool_choice(body.get("tool_choice")),
        "response_format": response_format,
    }
    metadata = body.get("metadata")
    echo = {
        "instructions": body.get("instructions"),
        "max_output_tokens": max_output_tokens,
        "metadata": metadata if isinstance(metadata, dict) else {},
        "parallel_tool_calls": body.get("parallel_tool_calls", True) is not False,
        "store": body.get("store", True) is not False,
        "temperature": body.get("temperature", 1.0),
        "text": text,
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": tools,
        "top_p": body.get("top_p", 1.0),
        "user": body.get("user"),
    }
    return _Parsed(model, messages, chat_body, echo)


def build_responses(body: Any, context: Context) -> Reply:
    """Plan the answer to a Responses request; raises RequestError on a bad request."""
    parsed = parse_request(body)
    timing = context.timing(parsed.model)
    try:
        plan = build_plan(
            parsed.chat_body, parsed.model, parsed.messages, timing, context.seed, context.now, context.judge
        )
    except RequestError as exc:
        if exc.param != "response_format":
            raise
        message = exc.message.replace("response_format.json_schema", "text.format")
        message = message.replace("response_format", "text.format")
        raise RequestError(exc.status, message, "text.format", exc.code) from None
    answer = Answer(*new_ids(plan.choices[0].tool_name is not None), plan, parsed.echo)
    if plan.stream:
        return Reply(timing, plan.rounds, events=response_stream(answer))
    return Reply(timing, plan.rounds, response_object(answer, done=True))
