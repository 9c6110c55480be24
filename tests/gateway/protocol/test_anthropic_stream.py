"""A chat SSE stream re-told as an Anthropic Messages stream, checked with the anthropic SDK's types and client."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx2
import orjson
import pytest
from anthropic.types import RawMessageStreamEvent
from anthropic.types.shared import ErrorResponse

from gateway.protocol.anthropic_api import message_body
from gateway.protocol.anthropic_stream import stream_events
from tests.gateway.protocol.wire import (
    USAGE,
    chunk,
    collect,
    completion,
    feed,
    parse_sse,
    sse,
    text_stream,
    tool_call,
    tool_stream,
    validate,
)

REQUEST: dict[str, Any] = {
    "model": "auto",
    "max_tokens": 1024,
    "stream": True,
    "messages": [{"role": "user", "content": "hi"}],
}


async def translate(items: list[bytes]) -> list[tuple[str, dict[str, Any]]]:
    """The Anthropic events for chat SSE ``items``, each checked against the SDK's types."""
    events = parse_sse(await collect(stream_events(feed(items), REQUEST)))
    for name, data in events:
        assert data["type"] == name
        if name == "ping":
            assert data == {"type": "ping"}
        elif name == "error":
            validate(ErrorResponse, data)
        else:
            validate(RawMessageStreamEvent, data)
    return events


async def test_a_text_stream() -> None:
    events = await translate(sse(text_stream("Paris is ", "the capital.")))
    assert [name for name, _ in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0][1]["message"]
    assert (start["id"], start["model"], start["content"], start["usage"]) == (
        "msg_B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "gpt-4o-mini-2024-07-18",
        [],
        {"input_tokens": 0, "output_tokens": 0},
    )
    assert events[3][1] == {
        "type": "content_block_delta",
        "index": 0,
        "delta": {"type": "text_delta", "text": "Paris is "},
    }
    assert events[6][1] == {
        "type": "message_delta",
        "delta": {"stop_reason": "end_turn", "stop_sequence": None},
        "usage": {
            "input_tokens": 20,
            "output_tokens": 30,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 100,
        },
    }


async def test_text_then_two_tool_calls() -> None:
    calls = [("call_a", "Read", ['{"path":', ' "a.py"}']), ("call_b", "Glob", ["{}"])]
    events = await translate(sse(tool_stream("Reading.", calls)))
    blocks = [(name, data.get("index")) for name, data in events if name.startswith("content_block")]
    assert blocks == [
        ("content_block_start", 0),
        ("content_block_delta", 0),
        ("content_block_stop", 0),
        ("content_block_start", 1),
        ("content_block_delta", 1),
        ("content_block_delta", 1),
        ("content_block_stop", 1),
        ("content_block_start", 2),
        ("content_block_delta", 2),
        ("content_block_stop", 2),
    ]
    starts = [data["content_block"] for name, data in events if name == "content_block_start"]
    assert starts[1] == {"type": "tool_use", "id": "call_a", "name": "Read", "input": {}}
    deltas = [data["delta"] for name, data in events if name == "content_block_delta" and data["index"] == 1]
    assert deltas == [
        {"type": "input_json_delta", "partial_json": '{"path":'},
        {"type": "input_json_delta", "partial_json": ' "a.py"}'},
    ]
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"


async def test_a_cut_answer_and_a_stream_without_usage() -> None:
    events = await translate(sse(text_stream("Par", finish_reason="length")[:-1]))
    assert events[-2][1]["delta"]["stop_reason"] == "max_tokens"
    assert events[-2][1]["usage"] == {"input_tokens": 0, "output_tokens": 0}


async def test_an_empty_answer_still_starts_and_stops() -> None:
    events = await translate(sse([chunk({"role": "assistant", "content": ""}), chunk({}, "stop"), chunk(usage=USAGE)]))
    assert [name for name, _ in events] == ["message_start", "ping", "message_delta", "message_stop"]


async def test_a_failure_mid_stream_is_an_error_event_and_the_end() -> None:
    error = {
        "error": {
            "message": "upstream stream failed: reset",
            "type": "upstream_error",
            "param": None,
            "code": "stream_interrupted",
        }
    }
    items = [
        *sse([chunk({"content": "Par"})], done=False),
        b"data: " + orjson.dumps(error) + b"\n\n",
        b"data: [DONE]\n\n",
    ]
    events = await translate(items)
    assert [name for name, _ in events] == [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "error",
    ]
    assert events[-1][1] == {
        "type": "error",
        "error": {"type": "api_error", "message": "upstream stream failed: reset"},
    }


async def test_a_rate_limit_failure_keeps_its_type() -> None:
    events = await translate([b'data: {"error": {"message": "slow down", "type": "rate_limit_error"}}\n\n'])
    assert events == [("error", {"type": "error", "error": {"type": "rate_limit_error", "message": "slow down"}})]


@pytest.mark.parametrize("size", [1, 9, 50])
async def test_arbitrary_splits_tell_the_same_story(size: int) -> None:
    whole = b"".join(sse(tool_stream("Hi.", [("call_a", "f", ['{"a"', ": 1}"])])))
    assert await translate([whole[i : i + size] for i in range(0, len(whole), size)]) == await translate([whole])


# --- through the anthropic SDK, as an application would ---------------------------------------


async def sdk(items: list[bytes]) -> anthropic.Anthropic:
    body = b"".join(await collect(stream_events(feed(items), REQUEST)))

    def handle(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})

    client = httpx2.Client(transport=httpx2.MockTransport(handle))
    return anthropic.Anthropic(api_key="sk-ant-test", base_url="http://triage.test", http_client=client, max_retries=0)


async def test_the_sdk_accumulates_the_same_message_as_the_whole_body() -> None:
    calls = [("call_a", "Read", ['{"path":', ' "a.py"}'])]
    client = await sdk(sse(tool_stream("Reading.", calls)))
    with (
        client,
        client.messages.stream(model="auto", max_tokens=1024, messages=[{"role": "user", "content": "hi"}]) as stream,
    ):
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "Reading."
    whole = completion(
        "Reading.", tool_calls=[tool_call("call_a", "Read", '{"path": "a.py"}')], finish_reason="tool_calls"
    )
    assert final.model_dump(exclude_none=True) == validate(
        anthropic.types.Message, message_body(whole, REQUEST)
    ).model_dump(exclude_none=True)


async def test_the_sdk_raises_on_an_error_event() -> None:
    error = {"error": {"message": "upstream stream failed: reset", "type": "upstream_error"}}
    client = await sdk([*sse([chunk({"content": "Par"})], done=False), b"data: " + orjson.dumps(error) + b"\n\n"])
    with client, pytest.raises(anthropic.APIStatusError) as caught:
        for _event in client.messages.create(
            model="auto", max_tokens=9, messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            pass
    assert caught.value.body == {
        "type": "error",
        "error": {"type": "api_error", "message": "upstream stream failed: reset"},
    }
