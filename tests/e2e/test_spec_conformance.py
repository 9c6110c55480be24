"""Every body the gateway sends, through each transport, validated against OpenAI's schemas.

A real simulator and one real ``triage serve`` per transport (relay, litellm); raw httpx
responses, not SDK objects, so a missing or ``null`` field cannot hide behind a parser's
defaults. Non-streamed completions (plain, tools, ``n=2``, logprobs), streams with usage,
cache replays (JSON and SSE, from entries stored by either kind of request), ``/v1/models``
and error bodies. The schemas are in ``tests/spec/openai_chat_schema.py``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from gateway.local import processes as procs
from tests.conftest import tier
from tests.spec.openai_chat_schema import violations

COMPLETION = "CreateChatCompletionResponse"
CHUNK = "CreateChatCompletionStreamResponse"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
SHAPES: dict[str, dict[str, Any]] = {
    "plain": {},
    "tools": {"tools": [WEATHER], "tool_choice": "required"},
    "n2": {"n": 2},
    "logprobs": {"logprobs": True, "top_logprobs": 2},
}


@pytest.fixture(scope="module", params=["relay", "litellm"])
def gateway(request: pytest.FixtureRequest, sim_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A gateway whose tiers all use one transport; the in-memory cache is on."""
    config = {
        "tiers": {
            "cheap": tier(sim_url, "sim-cheap", request.param),
            "frontier": tier(sim_url, "sim-frontier", request.param),
        },
        "profiles": {"auto": {"router": "heuristic", "frontier_share": 0.3}},
    }
    directory: Path = tmp_path_factory.mktemp(f"spec-{request.param}")
    with procs.gateway(config, directory) as url:
        yield url


@pytest.fixture
def http(gateway: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{gateway}/v1", timeout=30) as client:
        yield client


def body(text: str, **extra: Any) -> dict[str, Any]:
    return {"model": "cheap", "messages": [{"role": "user", "content": text}], **extra}


def unique(label: str) -> str:
    return f"{label} {time.time_ns()}"


def conforming(name: str, instance: Any) -> Any:
    problems = violations(name, instance)
    assert not problems, f"{name} violated:\n" + "\n".join(problems) + f"\n{orjson.dumps(instance).decode()}"
    return instance


def completion(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return dict(conforming(COMPLETION, response.json()))


def chunks(response: httpx.Response) -> list[dict[str, Any]]:
    """The stream's chunks, each validated; the stream must end with ``[DONE]``."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    events = [e.removeprefix("data: ") for e in response.text.split("\n\n") if e.strip()]
    assert events[-1] == "[DONE]"
    return [conforming(CHUNK, orjson.loads(event)) for event in events[:-1]]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_non_streamed_completions_conform(http: httpx.Client, shape: str) -> None:
    data = completion(http.post("/chat/completions", json=body(unique("Describe the weather"), **SHAPES[shape])))
    choices = data["choices"]
    assert len(choices) == (2 if shape == "n2" else 1)
    for choice in choices:
        assert "refusal" in choice["message"] and "logprobs" in choice
        assert (choice["logprobs"] is not None) == (shape == "logprobs")
    if shape == "tools":
        assert choices[0]["finish_reason"] == "tool_calls" and choices[0]["message"]["tool_calls"]


@pytest.mark.parametrize("shape", list(SHAPES))
def test_stream_chunks_conform(http: httpx.Client, shape: str) -> None:
    request = body(unique("Describe the weather"), stream=True, stream_options={"include_usage": True}, **SHAPES[shape])
    received = chunks(http.post("/chat/completions", json=request))
    *content, last = received
    assert last["choices"] == [] and last["usage"]["total_tokens"] > 0
    assert all(c["choices"] for c in content)
    finishes = [choice["finish_reason"] for c in content for choice in c["choices"] if choice["index"] == 0]
    assert finishes[-1] is not None and all(f is None for f in finishes[:-1])


def test_stream_without_usage_sends_no_usage_chunk(http: httpx.Client) -> None:
    received = chunks(http.post("/chat/completions", json=body(unique("Say hi"), stream=True)))
    assert all(c["choices"] and not c.get("usage") for c in received)


@pytest.mark.parametrize("shape", ["plain", "tools"])
def test_cache_replays_conform(http: httpx.Client, shape: str) -> None:
    # stored from a JSON answer: replayed as JSON, then as SSE
    text = unique("What is the capital of France?")
    request = body(text, temperature=0, **SHAPES[shape])
    first = http.post("/chat/completions", json=request)
    second = http.post("/chat/completions", json=request)
    assert (first.headers["x-triage-cache"], second.headers["x-triage-cache"]) == ("miss", "hit")
    assert completion(second)["choices"] == completion(first)["choices"]
    streamed = http.post(
        "/chat/completions", json={**request, "stream": True, "stream_options": {"include_usage": True}}
    )
    assert streamed.headers["x-triage-cache"] == "hit"
    assert chunks(streamed)[-1]["usage"] == completion(first)["usage"]

    # stored from a stream (assembled from its chunks): replayed as SSE, then as JSON
    request = body(unique("What is the capital of Spain?"), temperature=0, **SHAPES[shape])
    streamed_request = {**request, "stream": True, "stream_options": {"include_usage": True}}
    miss = http.post("/chat/completions", json=streamed_request)
    hit = http.post("/chat/completions", json=streamed_request)
    assert (miss.headers["x-triage-cache"], hit.headers["x-triage-cache"]) == ("miss", "hit")
    assert chunks(hit)[-1]["usage"] == chunks(miss)[-1]["usage"]
    replayed = http.post("/chat/completions", json=request)
    assert replayed.headers["x-triage-cache"] == "hit"
    assert "refusal" in completion(replayed)["choices"][0]["message"]


def test_models_conform(http: httpx.Client) -> None:
    listing = http.get("/models")
    assert listing.status_code == 200
    names = [model["id"] for model in conforming("ListModelsResponse", listing.json())["data"]]
    assert {"auto", "cheap", "frontier"} <= set(names)
    one = http.get("/models/cheap")
    assert one.status_code == 200
    conforming("Model", one.json())


@pytest.mark.parametrize(
    ("request_body", "status"),
    [
        (body("hi", model="no-such-model"), 404),
        (body("hi", model="no-such-model", stream=True), 404),
        ({"model": "cheap"}, 400),
        ({"model": "cheap", "messages": "not a list"}, 400),
        (b"{not json", 400),
    ],
    ids=["unknown-model", "unknown-model-stream", "no-messages", "bad-messages", "bad-json"],
)
def test_error_bodies_conform(http: httpx.Client, request_body: dict[str, Any] | bytes, status: int) -> None:
    if isinstance(request_body, bytes):
        response = http.post("/chat/completions", content=request_body, headers={"content-type": "application/json"})
    else:
        response = http.post("/chat/completions", json=request_body)
    assert response.status_code == status
    conforming("ErrorResponse", response.json())
    missing = http.get("/models/no-such-model")
    assert missing.status_code == 404
    conforming("ErrorResponse", missing.json())
