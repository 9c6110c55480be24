"""Chat-completion planning and OpenAI-shaped payloads (no I/O here).

A request becomes a :class:`ChatPlan`: the pieces (tokens) each choice will produce, why it finishes, their
logprobs, and how fast; the server then either sleeps and sends :func:`completion_payload`, or streams
:func:`chunk_event`s. A choice's content is the model's text answer (or sim-judge's verdict), wrapped as JSON
for ``response_format`` ``json_object`` (``{"answer": text}``) or ``json_schema`` (a seeded schema instance),
then cut at ``max_tokens`` and before the first stop sequence.
"""

from __future__ import annotations

import os
import random
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import orjson

from gateway.simulator.content import (
    VOCAB,
    answer_pieces,
    argument_pieces,
    last_is_tool_result,
    pick_tool,
    prompt_tokens,
    tokenize,
)
from gateway.simulator.judge import JUDGE_MODEL, Judge
from gateway.simulator.logprobs import logprobs_field, token_logprobs
from gateway.simulator.options import ChatOptions, RequestError, ResponseFormat, check_model_params, parse_options
from gateway.simulator.schema import instance

# model -> (time to first token in ms, tokens per second); sim-reasoning "thinks" before its first token
MODEL_SPEEDS: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "sim-cheap": (40.0, 150.0),
        "sim-mid": (70.0, 100.0),
        "sim-frontier": (120.0, 60.0),
        "sim-reasoning": (400.0, 80.0),
        JUDGE_MODEL: (60.0, 120.0),
    }
)
MODEL_CREATED = 1_700_000_000
SYSTEM_FINGERPRINT = "fp_triage_sim"


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
    logprobs: tuple[dict[str, Any], ...] | None = None


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
    check_model_params(model, body)
    return model, messages


def apply_stop(pieces: Sequence[str], stop: Sequence[str]) -> tuple[list[str], bool]:
    """The pieces cut before the first occurrence of any stop sequence, and whether one occurred."""
    if not stop:
        return list(pieces), False
    text = "".join(pieces)
    cut = min((found for s in stop if (found := text.find(s)) >= 0), default=-1)
    if cut < 0:
        return list(pieces), False
    kept: list[str] = []
    position = 0
    for piece in pieces:
        if position + len(piece) >= cut:
            if piece[: cut - position]:
                kept.append(piece[: cut - position])
            break
        kept.append(piece)
        position += len(piece)
    return kept, True


def _words(pieces: Sequence[str], rng: random.Random) -> Iterator[str]:
    yield from pieces
    while True:
        yield " " + rng.choice(VOCAB)


def _formatted(fmt: ResponseFormat, text: list[str], key: str) -> list[str]:
    """The content tokens: the text answer itself, or JSON built from it."""
    if fmt.kind == "json_object":
        return tokenize(orjson.dumps({"answer": "".join(text)}).decode())
    if fmt.kind == "json_schema":
        rng = random.Random(f"schema\x1f{key}")
        return tokenize(orjson.dumps(instance(fmt.schema, rng, _words(text, rng))).decode())
    return text


@dataclass(frozen=True, slots=True)
class _Request:
    body: dict[str, Any]
    options: ChatOptions
    model: str
    messages: list[Any]
    timing: Timing
    judge: Judge


def _choice(request: _Request, index: int) -> ChoicePlan:
    function = None if last_is_tool_result(request.messages) else _tool(request.body)
    if function is not None:
        call_id = "call_" + os.urandom(12).hex()
        return ChoicePlan(tuple(argument_pieces(function)), "tool_calls", str(function["name"]), call_id)
    seed, model, options = request.judge.seed, request.model, request.options
    verdict = request.judge.reply(request.messages) if model == JUDGE_MODEL else None
    if verdict is not None:
        text = tokenize(verdict)
    else:
        text = answer_pieces(seed, model, request.messages, request.timing.answer_tokens, index)
    key = f"{seed}\x1f{model}\x1f{index}"
    pieces = _formatted(options.response_format, text, key)
    limit = options.max_tokens
    kept, stopped = apply_stop(pieces[:limit], options.stop)
    finish = "length" if not stopped and limit is not None and limit < len(pieces) else "stop"
    logprobs = token_logprobs(kept, options.top_logprobs, key) if options.logprobs else None
    return ChoicePlan(tuple(kept), finish, logprobs=logprobs)


def _tool(body: dict[str, Any]) -> dict[str, Any] | None:
    try:
        return pick_tool(body.get("tools"), body.get("tool_choice"))
    except ValueError as exc:
        raise RequestError(400, str(exc), param="tool_choice") from None


def build_plan(
    body: dict[str, Any],
    model: str,
    messages: list[Any],
    timing: Timing,
    seed: int,
    now: int,
    judge: Judge | None = None,
) -> ChatPlan:
    """Everything the response will contain, decided up front (``judge`` answers for sim-judge)."""
    options = parse_options(body)
    request = _Request(body, options, model, messages, timing, judge or Judge(seed))
    return ChatPlan(
        completion_id="chatcmpl-" + os.urandom(12).hex(),
        created=now,
        model=model,
        choices=tuple(_choice(request, i) for i in range(options.n)),
        prompt_tokens=prompt_tokens(messages),
        stream=options.stream,
        include_usage=options.include_usage,
        timing=timing,
    )


def _message(choice: ChoicePlan) -> dict[str, Any]:
    if choice.tool_name is None:
        return {"role": "assistant", "content": "".join(choice.pieces), "refusal": None}
    function = {"name": choice.tool_name, "arguments": "".join(choice.pieces)}
    call = {"id": choice.tool_call_id, "type": "function", "function": function}
    return {"role": "assistant", "content": None, "refusal": None, "tool_calls": [call]}


def completion_payload(plan: ChatPlan) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` object."""
    choices = [
        {"index": i, "message": _message(c), "finish_reason": c.finish_reason, "logprobs": logprobs_field(c.logprobs)}
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


def choice_chunk(
    index: int, delta: dict[str, Any], finish_reason: str | None = None, logprobs: dict[str, Any] | None = None
) -> dict[str, Any]:
    return {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}


def piece_chunk(plan: ChatPlan, index: int, position: int) -> dict[str, Any]:
    """The chunk choice carrying token ``position`` of choice ``index`` (and its logprob, when asked for)."""
    choice = plan.choices[index]
    entries = None if choice.logprobs is None else choice.logprobs[position : position + 1]
    return choice_chunk(index, piece_delta(choice, choice.pieces[position]), logprobs=logprobs_field(entries))


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
