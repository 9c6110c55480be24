"""Deterministic answer text, token accounting and tool-call arguments for the simulator.

One simulated "token" is one word chunk (``"[sim-cheap]"``, ``" routing"``, ...) for text answers, one
word or punctuation run (:func:`tokenize`) for JSON answers, and one slice of at most ``ARGUMENT_PIECE_CHARS``
characters for tool-call arguments.

A text answer depends only on (seed, model, choice index, stripped last user message): the sim-judge relies on
this to regenerate and recognise the answers it is asked to compare (see :mod:`gateway.simulator.judge`).
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from typing import Any

import orjson

ARGUMENT_PIECE_CHARS = 4

VOCAB: tuple[str, ...] = (
    "the", "model", "answer", "routing", "gateway", "request", "cheap", "frontier", "token", "latency",
    "quality", "budget", "policy", "cache", "stream", "prompt", "result", "value", "simple", "careful",
    "fast", "strong", "evidence", "question", "because", "therefore", "however", "likely", "clear", "step",
    "first", "second", "then", "finally", "data", "signal", "score", "choice", "route", "upstream",
    "provider", "retry", "backoff", "limit", "window", "spend", "cost", "useful", "small", "large",
    "plan", "check", "verify", "explain", "reason", "detail", "summary", "context", "response", "good",
    "and", "with", "for", "this",
)  # fmt: skip

_TOOL_PREFIX: tuple[str, ...] = (" Received", " the", " tool", " result:")
_TOKEN = re.compile(r"\s*\w+|\s*[^\w\s]+|\s+")


def content_text(content: Any) -> str:
    """The text of a message ``content``: a string, or the text parts of a list of content parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = [p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return " ".join(parts)
    return ""


def _message_chars(message: Any) -> int:
    if not isinstance(message, dict):
        return 0
    chars = len(content_text(message.get("content")))
    tool_calls = message.get("tool_calls")
    if isinstance(tool_calls, list):
        for call in tool_calls:
            function = call.get("function") if isinstance(call, dict) else None
            if isinstance(function, dict):
                chars += len(str(function.get("name", ""))) + len(str(function.get("arguments", "")))
    return chars


def prompt_tokens(messages: Sequence[Any]) -> int:
    """Rough prompt size: total characters of all message contents / 4, plus 3 per message."""
    chars = sum(_message_chars(m) for m in messages)
    return chars // 4 + 3 * len(messages)


def last_user_text(messages: Sequence[Any]) -> str:
    """The text of the last ``user`` message ("" if there is none)."""
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            return content_text(message.get("content"))
    return ""


def last_is_tool_result(messages: Sequence[Any]) -> bool:
    """True when the conversation ends with a ``tool`` role message."""
    return bool(messages) and isinstance(messages[-1], dict) and messages[-1].get("role") == "tool"


def answer_pieces(seed: int, model: str, messages: Sequence[Any], count: int, index: int = 0) -> list[str]:
    """``count`` deterministic word tokens, starting with ``[model]``; joined they form the answer text.

    The words depend only on (seed, model, choice index, last user message stripped of surrounding
    whitespace), or on the tool result when the conversation ends with one (then the answer says the tool
    result was received).
    """
    tool_result = last_is_tool_result(messages)
    source = content_text(messages[-1].get("content")) if tool_result else last_user_text(messages)
    return text_pieces(seed, model, source.strip(), count, index, tool_result)


def text_pieces(seed: int, model: str, source: str, count: int, index: int = 0, tool_result: bool = False) -> list[str]:
    """The answer tokens for an already extracted (and stripped) prompt ``source``; see :func:`answer_pieces`."""
    rng = random.Random(f"{seed}\x1f{model}\x1f{index}\x1f{int(tool_result)}\x1f{source}")
    pieces = [f"[{model}]"]
    if tool_result:
        pieces.extend(_TOOL_PREFIX)
    while len(pieces) < count:
        pieces.append(" " + rng.choice(VOCAB))
    pieces = pieces[: max(count, 1)]
    if len(pieces) > 1:
        pieces[-1] += "."
    return pieces


def tokenize(text: str) -> list[str]:
    """Split ``text`` into tokens (a word or a punctuation run, with its leading spaces); they join to ``text``."""
    return _TOKEN.findall(text)


def sample_value(schema: Any) -> Any:
    """A sample value for a JSON-schema property: its first enum value, else a fixed value of its type."""
    if not isinstance(schema, dict):
        return "sample"
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return enum[0]
    if "const" in schema:
        return schema["const"]
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            return sample_value(options[0])
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    return _sample_of_type(kind)


def _sample_of_type(kind: Any) -> Any:
    match kind:
        case "number" | "integer":
            return 1
        case "boolean":
            return True
        case "array":
            return []
        case "object":
            return {}
        case "null":
            return None
        case _:
            return "sample"


def sample_arguments(parameters: Any) -> dict[str, Any]:
    """Arguments for a tool call: every required property of the ``parameters`` schema, with a sample value."""
    if not isinstance(parameters, dict):
        return {}
    properties = parameters.get("properties")
    properties = properties if isinstance(properties, dict) else {}
    required = parameters.get("required")
    required = required if isinstance(required, list) else []
    return {name: sample_value(properties.get(name)) for name in required if isinstance(name, str)}


def pick_tool(tools: Any, tool_choice: Any) -> dict[str, Any] | None:
    """The function definition to call, or None when no tool should be called.

    Raises ValueError when ``tool_choice`` names a function that is not in ``tools``.
    """
    if not isinstance(tools, list) or not tools or tool_choice == "none":
        return None
    functions: list[dict[str, Any]] = [
        t["function"]
        for t in tools
        if isinstance(t, dict) and isinstance(t.get("function"), dict) and isinstance(t["function"].get("name"), str)
    ]
    if not functions:
        return None
    if isinstance(tool_choice, dict):
        chosen = tool_choice.get("function")
        name = chosen.get("name") if isinstance(chosen, dict) else None
        for function in functions:
            if function["name"] == name:
                return function
        raise ValueError(f"tool_choice names function {name!r}, which is not in tools")
    return functions[0]


def argument_pieces(function: dict[str, Any]) -> list[str]:
    """The JSON arguments string for a call to ``function``, split into streaming pieces."""
    arguments = orjson.dumps(sample_arguments(function.get("parameters"))).decode()
    step = ARGUMENT_PIECE_CHARS
    return [arguments[i : i + step] for i in range(0, len(arguments), step)] or ["{}"]
