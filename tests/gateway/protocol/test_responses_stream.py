"""A chat SSE stream re-told as a Responses stream, checked with the openai SDK's stream types and client."""

from __future__ import annotations

from typing import Any

import httpx
import openai
import orjson
import pytest
from openai.types.responses import Response, ResponseStreamEvent

from gateway.protocol.responses_api import response_body
from gateway.protocol.responses_stream import stream_events
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

REQUEST: dict[str, Any] = {"model": "auto", "input": "Capital of France?", "stream": True}


async def translate(items: list[bytes], request: dict[str, Any] = REQUEST) -> list[tuple[str, dict[str, Any]]]:
    """The Responses events for chat SSE ``items``, each one checked against the SDK's event union."""
    events = parse_sse(await collect(stream_events(feed(items), request)))
    for name, data in events:
        assert data["type"] == name
        validate(ResponseStreamEvent, data)
    assert [data["sequence_number"] for _, data in events] == list(range(len(events)))
    return events


async def test_a_text_stream() -> None:
    events = await translate(sse(text_stream("Paris is ", "the capital", ".")))
    assert [name for name, _ in events] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    created = events[0][1]["response"]
    assert (created["status"], created["output"], created["usage"]) == ("in_progress", [], None)
    assert events[7][1]["text"] == "Paris is the capital."
    final: Response = validate(Response, events[-1][1]["response"])
    assert final.status == "completed" and final.output_text == "Paris is the capital."
    assert final.usage is not None and final.usage.total_tokens == 150


async def test_the_stream_ends_with_the_response_the_whole_body_would_be() -> None:
    events = await translate(sse(text_stream("Paris is the capital of France.")))
    assert events[-1][1]["response"] == response_body(completion(), REQUEST)
    calls = [("call_1", "get_weather", ['{"city":', '"Paris"}'])]
    events = await translate(sse(tool_stream(None, calls)))
    whole = completion(
        None, tool_calls=[tool_call("call_1", "get_weather", '{"city":"Paris"}')], finish_reason="tool_calls"
    )
    assert events[-1][1]["response"] == response_body(whole, REQUEST)


async def test_text_then_two_tool_calls() -> None:
    calls = [("call_a", "get_weather", ['{"city":', ' "Paris"}']), ("call_b", "get_time", ["{}"])]
    events = await translate(sse(tool_stream("Checking.", calls)))
    assert [name for name, _ in events][2:] == [
        "response.output_item.added",
        "response.content_part.added",
        "response.output_text.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.output_item.added",
        "response.function_call_arguments.delta",
        "response.function_call_arguments.done",
        "response.output_item.done",
        "response.completed",
    ]
    added = events[8][1]
    assert added["output_index"] == 1
    assert added["item"] == {
        "id": "fc_a",
        "type": "function_call",
        "status": "in_progress",
        "call_id": "call_a",
        "name": "get_weather",
        "arguments": "",
    }
    assert events[11][1] == {
        "type": "response.function_call_arguments.done",
        "sequence_number": 11,
        "item_id": "fc_a",
        "output_index": 1,
        "name": "get_weather",
        "arguments": '{"city": "Paris"}',
    }
    final: Response = validate(Response, events[-1][1]["response"])
    assert [item.type for item in final.output] == ["message", "function_call", "function_call"]
    assert [getattr(item, "arguments", None) for item in final.output] == [None, '{"city": "Paris"}', "{}"]


async def test_a_cut_answer_ends_incomplete() -> None:
    events = await translate(sse(text_stream("Paris", finish_reason="length")))
    assert events[-1][0] == "response.incomplete"
    final: Response = validate(Response, events[-1][1]["response"])
    assert final.incomplete_details is not None and final.incomplete_details.reason == "max_output_tokens"
    assert final.output[0].status == "incomplete"


async def test_a_refusal() -> None:
    events = await translate(
        sse([chunk({"refusal": "I can't "}), chunk({"refusal": "help."}), chunk({}, "stop"), chunk(usage=USAGE)])
    )
    names = [name for name, _ in events]
    assert names[3:8] == [
        "response.content_part.added",
        "response.refusal.delta",
        "response.refusal.delta",
        "response.refusal.done",
        "response.content_part.done",
    ]
    assert events[6][1]["refusal"] == "I can't help."


async def test_a_failure_mid_stream_is_an_error_then_response_failed() -> None:
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
    assert [name for name, _ in events][-2:] == ["error", "response.failed"]
    assert events[-2][1]["code"] == "stream_interrupted" and events[-2][1]["message"] == "upstream stream failed: reset"
    failed: Response = validate(Response, events[-1][1]["response"])
    assert failed.status == "failed"
    assert failed.error is not None and (failed.error.code, failed.error.message) == (
        "server_error",
        "upstream stream failed: reset",
    )
    assert failed.output[0].status == "incomplete"


async def test_a_failure_before_anything_still_opens_the_response() -> None:
    events = await translate([b'event: error\ndata: {"error": {"message": "busy", "type": "rate_limit_error"}}\n\n'])
    assert [name for name, _ in events] == ["response.created", "response.in_progress", "error", "response.failed"]
    assert events[-1][1]["response"]["error"] == {"code": "rate_limit_exceeded", "message": "busy"}


@pytest.mark.parametrize("size", [1, 5, 40])
async def test_arbitrary_splits_tell_the_same_story(size: int) -> None:
    whole = b"".join(sse(tool_stream("Hi.", [("call_a", "f", ['{"a"', ": 1}"])])))
    split = await translate([whole[i : i + size] for i in range(0, len(whole), size)])
    assert split == await translate([whole])


async def test_a_stream_without_usage_completes_without_it() -> None:
    events = await translate(sse(text_stream("ok")[:-1]))
    assert events[-1][1]["response"]["usage"] is None


# --- through the openai SDK, as an application would -----------------------------------------


async def sdk_body(items: list[bytes], request: dict[str, Any]) -> bytes:
    return b"".join(await collect(stream_events(feed(items), request)))


def sdk(body: bytes) -> openai.OpenAI:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=body, headers={"content-type": "text/event-stream"})

    client = httpx.Client(transport=httpx.MockTransport(handle))
    return openai.OpenAI(api_key="sk-test", base_url="http://triage.test/v1", http_client=client, max_retries=0)


async def test_the_sdk_stream_helper_accumulates_the_final_response() -> None:
    calls = [("call_a", "get_weather", ['{"city":', ' "Paris"}'])]
    body = await sdk_body(sse(tool_stream("Checking.", calls)), REQUEST)
    with sdk(body) as client, client.responses.stream(model="auto", input="Weather?") as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert final.output_text == "Checking."
    call = final.output[1]
    assert call.type == "function_call" and call.arguments == '{"city": "Paris"}'


async def test_the_sdk_raw_stream_types_every_event() -> None:
    body = await sdk_body(sse(text_stream("Paris", finish_reason="length")), REQUEST)
    with sdk(body) as client:
        events = list(client.responses.create(model="auto", input="x", stream=True))
    assert type(events[-1]).__name__ == "ResponseIncompleteEvent"
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Paris"
