"""Reading a chat SSE stream: framing, happenings, and what the stream says about itself."""

from __future__ import annotations

import orjson
import pytest

from gateway.protocol.chat_sse import (
    ChatStream,
    Failure,
    Happening,
    Refusal,
    Text,
    ToolArgs,
    ToolStart,
    first_choice,
    id_suffix,
    sse_events,
)
from tests.gateway.protocol.wire import USAGE, chunk, collect, feed, sse, text_stream, tool_stream


async def happenings(items: list[bytes]) -> tuple[list[Happening], ChatStream]:
    stream = ChatStream()
    return [h async for h in stream.happenings(feed(items))], stream


async def test_a_text_stream_is_its_text_then_its_finish_and_usage() -> None:
    found, stream = await happenings(sse(text_stream("Hel", "lo", "!")))
    assert found == [Text("Hel"), Text("lo"), Text("!")]
    assert (stream.id, stream.model, stream.created) == (
        "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
        "gpt-4o-mini-2024-07-18",
        1_700_000_000,
    )
    assert stream.finish_reason == "stop"
    assert stream.usage == USAGE


async def test_tool_calls_start_once_and_carry_their_fragments() -> None:
    found, stream = await happenings(
        sse(
            tool_stream("Let me check.", [("call_a", "weather", ['{"city"', ': "Paris"}']), ("call_b", "time", ["{}"])])
        )
    )
    assert found == [
        Text("Let me check."),
        ToolStart(0, "call_a", "weather"),
        ToolArgs(0, '{"city"'),
        ToolArgs(0, ': "Paris"}'),
        ToolStart(1, "call_b", "time"),
        ToolArgs(1, "{}"),
    ]
    assert stream.finish_reason == "tool_calls"


async def test_a_tool_call_whose_first_delta_has_arguments_and_no_id() -> None:
    call = {"index": 0, "function": {"name": "f", "arguments": "{}"}}
    found, _ = await happenings(sse([chunk({"tool_calls": [call]}), chunk({}, "tool_calls")]))
    assert found == [ToolStart(0, "call_0", "f"), ToolArgs(0, "{}")]


async def test_a_refusal_is_told_apart_from_text() -> None:
    found, _ = await happenings(sse([chunk({"refusal": "I can't help with that."}), chunk({}, "stop")]))
    assert found == [Refusal("I can't help with that.")]


@pytest.mark.parametrize("size", [1, 3, 7, 64])
async def test_events_split_anywhere_or_joined_read_the_same(size: int) -> None:
    whole = b"".join(sse(tool_stream("Hi", [("call_a", "f", ['{"a"', ":1}"])])))
    pieces = [whole[i : i + size] for i in range(0, len(whole), size)]
    split, _ = await happenings(pieces)
    joined, _ = await happenings([whole])
    assert split == joined == [Text("Hi"), ToolStart(0, "call_a", "f"), ToolArgs(0, '{"a"'), ToolArgs(0, ":1}")]


async def test_crlf_framing_comments_and_multiline_data() -> None:
    body = b': keep-alive\r\n\r\ndata: {"choices": [{"index": 0,\r\ndata: "delta": {"content": "x"}}]}\r\n\r\ndata: [DONE]\r\n\r\n'
    found, _ = await happenings([body])
    assert found == [Text("x")]


async def test_nothing_after_done_is_read() -> None:
    items = [*sse([chunk({"content": "a"})]), b"data: " + orjson.dumps(chunk({"content": "b"})) + b"\n\n"]
    found, _ = await happenings(items)
    assert found == [Text("a")]


async def test_a_stream_cut_without_done_ends_with_what_it_had() -> None:
    found, stream = await happenings(sse([chunk({"content": "partial"})], done=False))
    assert found == [Text("partial")]
    assert stream.finish_reason is None


async def test_the_gateways_error_event_is_a_failure_and_ends_the_stream() -> None:
    error = {
        "error": {
            "message": "upstream stream failed: reset",
            "type": "upstream_error",
            "param": None,
            "code": "stream_interrupted",
        }
    }
    items = [
        *sse([chunk({"content": "a"})], done=False),
        b"data: " + orjson.dumps(error) + b"\n\n",
        b"data: [DONE]\n\n",
    ]
    found, _ = await happenings(items)
    assert found == [Text("a"), Failure("upstream stream failed: reset", "upstream_error", "stream_interrupted")]


async def test_a_named_error_event_is_a_failure() -> None:
    found, _ = await happenings([b'event: error\ndata: {"message": "overloaded", "type": "overloaded_error"}\n\n'])
    assert found == [Failure("overloaded", "overloaded_error", None)]


async def test_an_event_that_is_not_json_is_a_failure() -> None:
    found, _ = await happenings([b"data: {not json\n\n", *sse([chunk({"content": "never"})])])
    assert found == [Failure("the upstream sent an event that is not JSON", "api_error", "bad_response")]


async def test_sse_events_keeps_event_names() -> None:
    events = await collect(sse_events(feed([b"event: x\ndata: 1\n\nevent: y\ndata: 2\n\n"])))
    assert events == [("x", b"1"), ("y", b"2")]


def test_ids_and_choices() -> None:
    assert id_suffix("chatcmpl-abc") == "abc"
    assert id_suffix("gen-123") == "gen-123"
    assert len(id_suffix("")) == 32
    assert first_choice({"choices": []}) == {}
    assert first_choice({"choices": [{"index": 0}]}) == {"index": 0}
