"""``POST /v1/completions``: legacy text completions, answered like chat completions of one user message.

``prompt`` is a string, an array of strings, an array of token ids, or an array of token id arrays; each prompt
gets ``n`` choices (indexes prompt * n + choice). ``max_tokens``, ``stop``, ``n``, ``stream`` (and
``stream_options.include_usage``) behave as in chat; ``echo`` puts the prompt before the answer. ``logprobs`` is
accepted and answered with null; ``suffix``, ``best_of`` and sampling parameters are accepted and ignored.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import orjson

from gateway.simulator.chat import SYSTEM_FINGERPRINT, ChatPlan, ChoicePlan, build_plan
from gateway.simulator.options import RequestError
from gateway.simulator.paced import Context, Events, Reply, check_number, sse_event, text_model

_CHAT_FIELDS = ("n", "max_tokens", "stop", "stream", "stream_options")
_DONE = b"data: [DONE]\n\n"


def _is_tokens(value: Any) -> bool:
    return isinstance(value, list) and bool(value) and all(type(t) is int and t >= 0 for t in value)


def parse_prompts(value: Any) -> list[tuple[str, int | None]]:
    """Each prompt's text, and its token count when it came as token ids; raises RequestError."""
    if isinstance(value, str):
        return [(value, None)]
    if _is_tokens(value):
        return [(_token_text(value), len(value))]
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return [(v, None) for v in value]
    if isinstance(value, list) and value and all(_is_tokens(v) for v in value):
        return [(_token_text(v), len(v)) for v in value]
    message = "'prompt' must be a string, an array of strings, an array of token ids, or an array of such arrays."
    raise RequestError(400, message, param="prompt")


def _token_text(tokens: list[int]) -> str:
    return " ".join(map(str, tokens))


@dataclasses.dataclass(frozen=True, slots=True)
class _Completion:
    completion_id: str
    created: int
    model: str
    plans: tuple[ChatPlan, ...]
    prompts: tuple[str, ...]
    echo: bool
    include_usage: bool

    def choices(self) -> list[tuple[int, ChoicePlan, str]]:
        """(index, choice, the prompt it answers), in index order."""
        return [
            (p * len(plan.choices) + i, choice, self.prompts[p])
            for p, plan in enumerate(self.plans)
            for i, choice in enumerate(plan.choices)
        ]

    def usage(self) -> dict[str, int]:
        prompt = sum(plan.prompt_tokens for plan in self.plans)
        completion = sum(plan.completion_tokens for plan in self.plans)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def chunk(self, choices: list[dict[str, Any]], usage: bool = False) -> bytes:
        payload: dict[str, Any] = {
            "id": self.completion_id,
            "object": "text_completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": choices,
        }
        if self.include_usage:
            payload["usage"] = self.usage() if usage else None
        return sse_event(payload)


def _choice(index: int, text: str, finish_reason: str | None) -> dict[str, Any]:
    return {"text": text, "index": index, "logprobs": None, "finish_reason": finish_reason}


def completion_payload(completion: _Completion) -> dict[str, Any]:
    """The non-streaming ``text_completion`` object."""
    choices = [
        _choice(index, (prompt if completion.echo else "") + "".join(choice.pieces), choice.finish_reason)
        for index, choice, prompt in completion.choices()
    ]
    return {
        "id": completion.completion_id,
        "object": "text_completion",
        "created": completion.created,
        "model": completion.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": choices,
        "usage": completion.usage(),
    }


def _events(completion: _Completion) -> Events:
    choices = completion.choices()
    rounds = max(len(choice.pieces) for _, choice, _ in choices)
    opening = [completion.chunk([_choice(i, prompt, None)]) for i, _, prompt in choices] if completion.echo else []
    content = [
        (r, completion.chunk([_choice(i, choice.pieces[r], None)]))
        for r in range(rounds)
        for i, choice, _ in choices
        if r < len(choice.pieces)
    ]
    closing = [completion.chunk([_choice(i, "", choice.finish_reason)]) for i, choice, _ in choices]
    if completion.include_usage:
        closing.append(completion.chunk([], usage=True))
    closing.append(_DONE)
    malformed = b'data: {"id": "' + completion.completion_id.encode() + b'", "object": "text_completion", "choices": [{'
    return Events(opening, content, closing, malformed + b"\n\n")


def build_completions(body: Any, context: Context) -> Reply:
    """Plan the answer to a legacy completions request; raises RequestError on a bad request."""
    model = text_model(body)
    prompts = parse_prompts(body.get("prompt"))
    echo = body.get("echo")
    if echo is not None and not isinstance(echo, bool):
        raise RequestError(400, f"Invalid value for 'echo': {echo!r}.", param="echo")
    check_number(body, "temperature", 0.0, 2.0)
    check_number(body, "top_p", 0.0, 1.0)
    timing = context.timing(model)
    plans = []
    for text, tokens in prompts:
        chat_body = {name: body[name] for name in _CHAT_FIELDS if name in body}
        messages = [{"role": "user", "content": text}]
        plan = build_plan(chat_body, model, messages, timing, context.seed, context.now, context.judge)
        plans.append(plan if tokens is None else dataclasses.replace(plan, prompt_tokens=tokens))
    completion = _Completion(
        completion_id="cmpl-" + os.urandom(12).hex(),
        created=context.now,
        model=model,
        plans=tuple(plans),
        prompts=tuple(text for text, _ in prompts),
        echo=echo is True,
        include_usage=plans[0].include_usage,
    )
    rounds = max(plan.rounds for plan in plans)
    if plans[0].stream:
        return Reply(timing, rounds, events=_events(completion))
    return Reply(timing, rounds, orjson.dumps(completion_payload(completion)))
