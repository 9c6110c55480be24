"""The Responses API's objects and event stream for a planned answer (no I/O here).

A plan's one choice becomes one output item: a ``message`` with one ``output_text`` part, or a ``function_call``.
An answer cut by ``max_output_tokens`` is ``incomplete`` (``incomplete_details.reason: max_output_tokens``). The
stream sends ``response.created``, ``response.in_progress``, ``response.output_item.added`` (and
``response.content_part.added``), one delta per token (``response.output_text.delta`` or
``response.function_call_arguments.delta``), their ``.done`` events, ``response.output_item.done`` and
``response.completed`` (or ``response.incomplete``), each with its ``sequence_number``.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

from gateway.simulator.chat import ChatPlan, ChoicePlan
from gateway.simulator.paced import Events, sse_event


@dataclass(frozen=True, slots=True)
class Answer:
    """A Responses answer: its ids, the chat plan behind it, and the request fields it repeats."""

    response_id: str
    item_id: str
    plan: ChatPlan
    echo: dict[str, Any]

    @property
    def choice(self) -> ChoicePlan:
        return self.plan.choices[0]

    @property
    def incomplete(self) -> bool:
        return self.choice.finish_reason == "length"

    @property
    def is_call(self) -> bool:
        return self.choice.tool_name is not None


def new_ids(is_call: bool = False) -> tuple[str, str]:
    """A fresh (response id, output item id)."""
    return "resp_" + os.urandom(24).hex(), ("fc_" if is_call else "msg_") + os.urandom(24).hex()


def _status(answer: Answer, done: bool) -> str:
    if not done:
        return "in_progress"
    return "incomplete" if answer.incomplete else "completed"


def _part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def output_item(answer: Answer, done: bool) -> dict[str, Any]:
    """The answer's output item, as added (empty, in progress) or as done."""
    choice, status = answer.choice, _status(answer, done)
    text = "".join(choice.pieces) if done else ""
    if choice.tool_name is not None:
        return {
            "type": "function_call",
            "id": answer.item_id,
            "call_id": choice.tool_call_id,
            "name": choice.tool_name,
            "arguments": text,
            "status": status,
        }
    content = [_part(text)] if done else []
    return {"type": "message", "id": answer.item_id, "status": status, "role": "assistant", "content": content}


def _usage(plan: ChatPlan) -> dict[str, Any]:
    completion = plan.completion_tokens
    return {
        "input_tokens": plan.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": plan.prompt_tokens + completion,
    }


def response_object(answer: Answer, done: bool) -> dict[str, Any]:
    """The ``response`` object: as created (in progress, no output) or as finished (output and usage)."""
    plan, timing = answer.plan, answer.plan.timing
    incomplete = done and answer.incomplete
    return {
        "id": answer.response_id,
        "object": "response",
        "created_at": plan.created,
        "status": _status(answer, done),
        "background": False,
        "completed_at": plan.created + math.ceil(timing.ttft_s + plan.rounds / timing.tokens_per_s) if done else None,
        "error": None,
        "incomplete_details": {"reason": "max_output_tokens"} if incomplete else None,
        "max_tool_calls": None,
        "model": plan.model,
        "output": [output_item(answer, done=True)] if done else [],
        "previous_response_id": None,
        "prompt_cache_key": None,
        "reasoning": {"effort": None, "summary": None},
        "safety_identifier": None,
        "service_tier": "default",
        "top_logprobs": 0,
        "truncation": "disabled",
        "usage": _usage(plan) if done else None,
        **answer.echo,
    }


@dataclass(slots=True)
class _Sequencer:
    """Numbers the events of one stream."""

    answer: Answer
    number: int = 0

    def event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self.number, **fields}
        self.number += 1
        return sse_event(payload, kind)

    def at(self, **fields: Any) -> dict[str, Any]:
        """The fields that locate an event in the output (the item, and the content part of a message)."""
        where = {"item_id": self.answer.item_id, "output_index": 0}
        return {**where, "content_index": 0, **fields} if not self.answer.is_call else {**where, **fields}


def response_stream(answer: Answer) -> Events:
    """The whole event stream of ``answer``."""
    events = _Sequencer(answer)
    opening = [
        events.event("response.created", response=response_object(answer, done=False)),
        events.event("response.in_progress", response=response_object(answer, done=False)),
        events.event("response.output_item.added", output_index=0, item=output_item(answer, done=False)),
    ]
    pieces = answer.choice.pieces
    text = "".join(pieces)
    if answer.is_call:
        content = [
            (r, events.event("response.function_call_arguments.delta", **events.at(delta=piece)))
            for r, piece in enumerate(pieces)
        ]
        name = answer.choice.tool_name
        closing = [events.event("response.function_call_arguments.done", **events.at(name=name, arguments=text))]
    else:
        opening.append(events.event("response.content_part.added", **events.at(part=_part(""))))
        content = [
            (r, events.event("response.output_text.delta", **events.at(delta=piece, logprobs=[])))
            for r, piece in enumerate(pieces)
        ]
        closing = [
            events.event("response.output_text.done", **events.at(text=text, logprobs=[])),
            events.event("response.content_part.done", **events.at(part=_part(text))),
        ]
    closing.append(events.event("response.output_item.done", output_index=0, item=output_item(answer, done=True)))
    finished = "response.incomplete" if answer.incomplete else "response.completed"
    closing.append(events.event(finished, response=response_object(answer, done=True)))
    kind = "response.function_call_arguments.delta" if answer.is_call else "response.output_text.delta"
    malformed = b'{"type": "%s", "item_id": "%s", "delta": {' % (kind.encode(), answer.item_id.encode())
    return Events(opening, content, closing, sse_event(malformed, kind))
