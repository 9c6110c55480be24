"""Bodies the gateway serialises itself, checked against OpenAI's schemas without processes.

The litellm shapes below are what litellm 1.x's ``model_dump`` produced for the simulator's
answers before ``gateway.upstream.conform`` existed: each one violates the spec, and conforms
once passed through it.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
import pytest

from gateway.cache.entry import CacheEntry, StreamAssembler, replay_events
from gateway.simulator.chat import (
    Timing,
    build_plan,
    choice_chunk,
    chunk_event,
    completion_payload,
    piece_chunk,
    role_delta,
)
from gateway.upstream import conform
from tests.spec.openai_chat_schema import violations

HEAD = {"id": "chatcmpl-1", "created": 1, "model": "sim-cheap", "system_fingerprint": "fp"}
CALL = {"function": {"arguments": "{}", "name": "get_weather"}, "id": "call_1", "type": "function"}


def litellm_completion(**message: Any) -> dict[str, Any]:
    return {
        **HEAD,
        "object": "chat.completion",
        "choices": [
            {
                "finish_reason": "stop",
                "index": 0,
                "message": {
                    "content": "Hello",
                    "role": "assistant",
                    "tool_calls": None,
                    "function_call": None,
                    "provider_specific_fields": {"refusal": None},
                    **message,
                },
                "provider_specific_fields": {},
            }
        ],
        "usage": {
            "completion_tokens": 1,
            "prompt_tokens": 3,
            "total_tokens": 4,
            "completion_tokens_details": None,
            "prompt_tokens_details": {"audio_tokens": None, "cached_tokens": 0},
        },
        "moderation": None,
        "service_tier": None,
    }


def chunk(choices: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {**HEAD, "object": "chat.completion.chunk", "choices": choices, **extra}


@pytest.mark.parametrize(
    "message",
    [{}, {"content": None, "tool_calls": [CALL]}, {"provider_specific_fields": {"refusal": "No.", "x": 1}}],
    ids=["text", "tool-call", "refusal"],
)
def test_litellm_completion_is_made_to_conform(message: dict[str, Any]) -> None:
    raw = litellm_completion(**message)
    before = copy.deepcopy(raw)
    assert violations("CreateChatCompletionResponse", raw)
    fixed = conform.chat_completion(raw)
    assert violations("CreateChatCompletionResponse", fixed) == []
    out = fixed["choices"][0]["message"]
    assert "tool_calls" not in out or out["tool_calls"] == [CALL]
    assert "function_call" not in out and fixed["choices"][0]["logprobs"] is None
    if message.get("provider_specific_fields"):
        assert out["refusal"] == "No." and out["provider_specific_fields"] == {"x": 1}
    else:
        assert out["refusal"] is None and "provider_specific_fields" not in out
    assert fixed["usage"]["prompt_tokens_details"] == {"cached_tokens": 0}
    assert raw == before  # a new body; the original is not modified


def test_litellm_chunks_are_made_to_conform() -> None:
    usage = {"completion_tokens": 1, "prompt_tokens": 3, "total_tokens": 4, "completion_tokens_details": None}
    stream = [
        chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}}]),
        chunk([{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": None, "function": {"arguments": "{}"}}]}}]),
        chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}]),
        chunk([{"index": 0, "delta": {}}], usage=usage),  # litellm's trailing usage chunk
    ]
    fixed = [conform.chat_chunk(c) for c in stream]
    assert all(violations("CreateChatCompletionStreamResponse", c) == [] for c in fixed)
    assert [c["choices"][0]["finish_reason"] for c in fixed[:3]] == [None, None, "stop"]
    assert fixed[1]["choices"][0]["delta"]["tool_calls"] == [{"index": 0, "function": {"arguments": "{}"}}]
    assert fixed[3]["choices"] == [] and "completion_tokens_details" not in fixed[3]["usage"]


def test_other_objects_pass_unchanged() -> None:
    embedding = {"object": "list", "data": [], "model": "m", "usage": None}
    text = {"object": "text_completion.chunk", "choices": [{"index": 0, "text": "x"}]}
    assert conform.chat_completion(embedding) is embedding
    assert conform.chat_chunk(text) is text


def test_cache_entries_replay_conforming_json_and_sse() -> None:
    # an entry stored before the gateway conformed: litellm's shape, and one assembled from a stream
    assembler = StreamAssembler()
    for part in [
        chunk([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]),
        chunk([{"index": 0, "delta": {"refusal": "I can't."}, "finish_reason": None}]),
        chunk([{"index": 0, "delta": {}, "finish_reason": "stop"}], system_fingerprint=None),
    ]:
        assembler.feed(part)
    assembled = assembler.completion()
    assert assembled is not None and assembled["usage"] is None
    for stored in (
        litellm_completion(content=None, tool_calls=[CALL]),
        assembled,
        {**assembled, "system_fingerprint": None},
    ):
        entry = CacheEntry.decode(CacheEntry(stored, "cheap", "sim-cheap", 0.0, 0.0).encode())
        assert entry is not None
        assert violations("CreateChatCompletionResponse", entry.body) == []
        events = [orjson.loads(e.removeprefix(b"data: ")) for e in replay_events(entry.body, include_usage=True)]
        assert all(violations("CreateChatCompletionStreamResponse", e) == [] for e in events)
    refusal = [e["choices"][0]["delta"].get("refusal") for e in events if e["choices"]]
    assert "I can't." in refusal


@pytest.mark.parametrize(
    "extra",
    [{}, {"n": 2}, {"logprobs": True, "top_logprobs": 2}, {"tools": [{"type": "function", "function": {"name": "f"}}]}],
    ids=["plain", "n2", "logprobs", "tools"],
)
def test_simulator_payloads_conform(extra: dict[str, Any]) -> None:
    messages = [{"role": "user", "content": "Hello there"}]
    request = {"model": "sim-cheap", "messages": messages, "stream_options": {"include_usage": True}, **extra}
    plan = build_plan(request, "sim-cheap", messages, Timing(0.0, 1000.0, 8), seed=1, now=1)
    assert violations("CreateChatCompletionResponse", completion_payload(plan)) == []
    events = [chunk_event(plan, [choice_chunk(i, role_delta(c))]) for i, c in enumerate(plan.choices)]
    events += [chunk_event(plan, [piece_chunk(plan, 0, p)]) for p in range(len(plan.choices[0].pieces))]
    events += [chunk_event(plan, [choice_chunk(i, {}, c.finish_reason)]) for i, c in enumerate(plan.choices)]
    events.append(chunk_event(plan, [], usage=True))
    for event in events:
        assert violations("CreateChatCompletionStreamResponse", orjson.loads(event.removeprefix(b"data: "))) == []
