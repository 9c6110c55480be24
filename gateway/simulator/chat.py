"""Chat-completion planning and OpenAI-shaped payloads (no I/O here).

A request becomes a :class:`ChatPlan`: the pieces (tokens) each choice will produce, why it finishes, and how
fast; the server then either sleeps and sends :func:`completion_payload`, or streams :func:`chunk_event`s.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson

from gateway.simulator.content import answer_pieces, argument_pieces, last_is_tool_result, pick_tool, prompt_tokens

# model -> (time to first token in ms, tokens per second)
MODEL_SPEEDS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {"sim-cheap": (40.0, 150.0), "sim-frontier": (120.0, 60.0)}
)
MODEL_CREATED = 1_700_000_000
SYSTEM_FINGERPRINT = "fp_triage_sim"
MAX_CHOICES = 128


class RequestError(Exception):
    """A request the simulator refuses, answered with an OpenAI-shaped error body."""

    def __init__(self, status: int, message: str, param: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.param = param
        self.code = code


@dataclass(frozen=True, slots=True)
class Timing:
    ttft_s: float
    tokens_per_s: float
    answer_tokens: int


@dataclass(frozen=True, slots=True)
class ChoicePlan:
    pieces: tuple[str, ...]
    finish_reason: str
    tool_name: str | None = None
    tool_call_id: str | None = None


@dataclass(frozen=True, slots=True)
class ChatPlan:
    completion_id: str
    created: int
    model: str
    choices: tuple[ChoicePlan, ...]
    prompt_tokens: int
    stream: bool
    include_usage: bool
    timing: Timing

    @property
    def completion_tokens(self) -> int:
        return sum(len(c.pieces) for c in self.choices)

    @property
    def rounds(self) -> int:
        """Number of token steps: the longest choice (choices are generated in parallel)."""
        return max(len(c.pieces) for c in self.choices)

    def usage(self) -> dict[str, int]:
        completion = self.completion_tokens
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": completion,
            "total_tokens": self.prompt_tokens + completion,
        }


def models_payload() -> dict[str, Any]:
    """The ``GET /v1/models`` list."""
    return {"object": "list", "data": [model_payload(name) for name in MODEL_SPEEDS]}


def model_payload(name: str) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": MODEL_CREATED, "owned_by": "triage-simulator"}


def validate(body: Any) -> tuple[str, list[Any]]:
    """Check the request's shape; returns (model, messages) or raises RequestError."""
    if not isinstance(body, dict):
        raise RequestError(400, "The request body must be a JSON object.")
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise RequestError(400, "you must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RequestError(400, "'messages' must be a non-empty array.", param="messages")
    if not all(isinstance(m, dict) and isinstance(m.get("role"), str) for m in messages):
        raise RequestError(400, "Each message must be an object with a 'role'.", param="messages")
    if model not in MODEL_SPEEDS:
        message = f"The model `{model}` does not exist or you do not have access to it."
        raise RequestError(404, message, param="model", code="model_not_found")
    return model, messages


def _positive_int(body: dict[str, Any], name: str, maximum: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1 or (maximum and value > maximum):
        raise RequestError(400, f"Invalid value for '{name}': {value!r}.", param=name)
    return value


def _choice(body: dict[str, Any], model: str, messages: list[Any], timing: Timing, seed: int, index: int) -> ChoicePlan:
    function = None if last_is_tool_result(messages) else _tool(body)
    if function is not None:
        call_id = "call_" + os.urandom(12).hex()
        return ChoicePlan(tuple(argument_pieces(function)), "tool_calls", str(function["name"]), call_id)
    pieces = answer_pieces(seed, model, messages, timing.answer_tokens, index)
    limit = _positive_int(body, "max_completion_tokens") or _positive_int(body, "max_tokens")
    if limit is not None and limit < len(pieces):
        return ChoicePlan(tuple(pieces[:limit]), "length")
    return ChoicePlan(tuple(pieces), "stop")


def _tool(body: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return pick_tool(body.get("tools"), body.get("tool_choice"))
    except ValueError as exc:
        raise RequestError(400, str(exc), param="tool_choice") from None


def build_plan(body: dict[str, Any], model: str, messages: list[Any], timing: Timing, seed: int, now: int) -> ChatPlan:
    """Everything the response will contain, decided up front."""
    n = _positive_int(body, "n", MAX_CHOICES) or 1
    stream = body.get("stream") is True
    options = body.get("stream_options")
    include_usage = stream and isinstance(options, dict) and options.get("include_usage") is True
    choices = tuple(_choice(body, model, messages, timing, seed, i) for i in range(n))
    return ChatPlan(
        completion_id="chatcmpl-" + os.urandom(12).hex(),
        created=now,
        model=model,
        choices=choices,
        prompt_tokens=prompt_tokens(messages),
        stream=stream,
        include_usage=include_usage,
        timing=timing,
    )


def _message(choice: ChoicePlan) -> dict[str, Any]:
    if choice.tool_name is None:
        return {"role": "assistant", "content": "".join(choice.pieces)}
    function = {"name": choice.tool_name, "arguments": "".join(choice.pieces)}
    call = {"id": choice.tool_call_id, "type": "function", "function": function}
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def completion_payload(plan: ChatPlan) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` object."""
    choices = [
        {"index": i, "message": _message(c), "finish_reason": c.finish_reason, "logprobs": None}
        for i, c in enumerate(plan.choices)
    ]
    return {
        "id": plan.completion_id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "choices": choices,
        "usage": plan.usage(),
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def role_delta(choice: ChoicePlan) -> dict[str, Any]:
    """The first delta of a choice: the role, plus the tool call's id and name for tool calls."""
    if choice.tool_name is None:
        return {"role": "assistant", "content": ""}
    function = {"name": choice.tool_name, "arguments": ""}
    call = {"index": 0, "id": choice.tool_call_id, "type": "function", "function": function}
    return {"role": "assistant", "content": None, "tool_calls": [call]}


def piece_delta(choice: ChoicePlan, piece: str) -> dict[str, Any]:
    """A content delta, or a tool-call arguments delta."""
    if choice.tool_name is None:
        return {"content": piece}
    return {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}


def choice_chunk(index: int, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}


def chunk_event(plan: ChatPlan, choices: list[dict[str, Any]], usage: bool = False) -> bytes:
    """One SSE ``data:`` event carrying a ``chat.completion.chunk``."""
    payload: dict[str, Any] = {
        "id": plan.completion_id,
        "object": "chat.completion.chunk",
        "created": plan.created,
        "model": plan.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": choices,
    }
    if plan.include_usage:
        payload["usage"] = plan.usage() if usage else None
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def malformed_event(plan: ChatPlan) -> bytes:
    """An SSE event whose data is not valid JSON."""
    return b'data: {"id": "' + plan.completion_id.encode() + b'", "object": "chat.completion.chunk", "choices": [{\n\n'


def malformed_body(plan: ChatPlan) -> bytes:
    """A 200 body that is not valid JSON (a completion cut off mid-object)."""
    body = orjson.dumps(completion_payload(plan))
    return body[: max(len(body) // 2, 1)]
