"""The simulator's embeddings (``POST /v1/embeddings``) and legacy completions (``POST /v1/completions``)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx
import numpy as np
import openai
import pytest
from openai.types import Completion, CreateEmbeddingResponse

from tests.simulator.support import PROMPT, chat, start_simulator, stop_simulator

QUESTION = str(PROMPT[0]["content"])

# --- embeddings ------------------------------------------------------------------------------------------------


def _floats(sdk: openai.OpenAI, text: str | list[str], **body: Any) -> list[list[float]]:
    response = sdk.embeddings.create(model="sim-embedding", input=text, encoding_format="float", **body)
    return [item.embedding for item in response.data]


def test_embedding_shape_and_usage(sdk: openai.OpenAI) -> None:
    response = sdk.embeddings.create(model="sim-embedding", input=["hello world", "goodbye"], encoding_format="float")
    assert isinstance(response, CreateEmbeddingResponse)
    assert response.object == "list" and response.model == "sim-embedding"
    assert [item.index for item in response.data] == [0, 1]
    assert all(item.object == "embedding" and len(item.embedding) == 256 for item in response.data)
    for item in response.data:
        assert np.linalg.norm(item.embedding) == pytest.approx(1.0, abs=1e-5)
    assert response.usage.prompt_tokens == response.usage.total_tokens == 3 + 2


def test_embeddings_are_deterministic(sdk: openai.OpenAI) -> None:
    first, other = _floats(sdk, ["the same text", "another text"])
    assert _floats(sdk, "the same text") == [first]
    assert abs(float(np.dot(first, other))) < 0.5
    tokens = sdk.embeddings.create(model="sim-embedding", input=[[1, 2, 3], [4]], encoding_format="float")
    assert [len(item.embedding) for item in tokens.data] == [256, 256] and tokens.usage.prompt_tokens == 4


def test_base64_matches_float(sdk: openai.OpenAI, http: httpx.Client) -> None:
    (floats,) = _floats(sdk, QUESTION)
    decoded = sdk.embeddings.create(model="sim-embedding", input=QUESTION)  # the SDK asks for base64 and decodes it
    assert np.allclose(decoded.data[0].embedding, floats, atol=1e-7)
    raw = http.post("/v1/embeddings", json={"model": "sim-embedding", "input": QUESTION, "encoding_format": "base64"})
    encoded = raw.json()["data"][0]["embedding"]
    assert isinstance(encoded, str)
    values = np.frombuffer(base64.b64decode(encoded), dtype="<f4")
    assert values.shape == (256,) and np.allclose(values, floats, atol=1e-7)


def test_dimensions_shorten_and_renormalise(sdk: openai.OpenAI) -> None:
    (full,) = _floats(sdk, QUESTION)
    (short,) = _floats(sdk, QUESTION, dimensions=64)
    assert len(short) == 64 and np.linalg.norm(short) == pytest.approx(1.0, abs=1e-5)
    prefix = np.array(full[:64])
    assert np.allclose(short, prefix / np.linalg.norm(prefix), atol=1e-6)


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": ""}, "input"),
        ({"input": []}, "input"),
        ({"input": ["ok", 3]}, "input"),
        ({"dimensions": 257}, "dimensions"),
        ({"dimensions": 0}, "dimensions"),
        ({"encoding_format": "hex"}, "encoding_format"),
    ],
)
def test_bad_embedding_requests_are_400(http: httpx.Client, body: dict[str, Any], param: str) -> None:
    response = http.post("/v1/embeddings", json={"model": "sim-embedding", "input": "x", **body})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_embedding_model_errors_and_listing(sdk: openai.OpenAI, http: httpx.Client) -> None:
    for model in ("text-embedding-3-small", "sim-cheap"):
        with pytest.raises(openai.NotFoundError) as caught:
            sdk.embeddings.create(model=model, input="x")
        assert caught.value.code == "model_not_found"
    assert sdk.models.retrieve("sim-embedding").id == "sim-embedding"
    assert http.post("/embeddings", json={"model": "sim-embedding", "input": "x"}).status_code == 200
    assert http.get("/v1/embeddings").status_code == 405


def test_embedding_faults(sdk: openai.OpenAI, http: httpx.Client) -> None:
    with pytest.raises(openai.InternalServerError):
        sdk.embeddings.create(model="sim-embedding", input="x", extra_headers={"x-sim-fault": "500"})
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        http.post("/v1/embeddings", json={"model": "sim-embedding", "input": "x"}, headers={"x-sim-fault": "reset"})
    body = {"model": "sim-embedding", "input": "x"}
    malformed = http.post("/v1/embeddings", json=body, headers={"x-sim-fault": "malformed"})
    assert malformed.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(malformed.text)


def test_embedding_dim_flag() -> None:
    proc, url = start_simulator("--embedding-dim", "32")
    try:
        response = httpx.post(url + "/v1/embeddings", json={"model": "sim-embedding", "input": "x"})
        assert len(response.json()["data"][0]["embedding"]) == 32
    finally:
        assert stop_simulator(proc) == 0


# --- legacy completions ----------------------------------------------------------------------------------------


def test_completion_shape(sdk: openai.OpenAI, http: httpx.Client) -> None:
    completion = sdk.completions.create(model="sim-cheap", prompt=QUESTION)
    assert isinstance(completion, Completion)
    assert completion.id.startswith("cmpl-") and completion.object == "text_completion"
    (choice,) = completion.choices
    assert choice.index == 0 and choice.finish_reason == "stop" and choice.logprobs is None
    assert choice.text == chat(http).json()["choices"][0]["message"]["content"]
    usage = completion.usage
    assert usage is not None and usage.completion_tokens == 40
    assert usage.prompt_tokens == len(QUESTION) // 4 + 3
    assert usage.total_tokens == usage.prompt_tokens + usage.completion_tokens


def test_prompts_times_n(sdk: openai.OpenAI) -> None:
    completion = sdk.completions.create(model="sim-cheap", prompt=[QUESTION, "Other"], n=2, max_tokens=4)
    assert [choice.index for choice in completion.choices] == [0, 1, 2, 3]
    assert all(choice.finish_reason == "length" for choice in completion.choices)
    assert completion.usage is not None and completion.usage.completion_tokens == 16
    alone = sdk.completions.create(model="sim-cheap", prompt="Other", n=2, max_tokens=4)
    assert [c.text for c in completion.choices[2:]] == [c.text for c in alone.choices]
    tokens = sdk.completions.create(model="sim-cheap", prompt=[1, 2, 3], max_tokens=2)
    assert tokens.usage is not None and tokens.usage.prompt_tokens == 3


def test_stop_and_echo(sdk: openai.OpenAI) -> None:
    plain = sdk.completions.create(model="sim-cheap", prompt=QUESTION).choices[0].text
    echoed = sdk.completions.create(model="sim-cheap", prompt=QUESTION, echo=True).choices[0].text
    assert echoed == QUESTION + plain
    stopped = sdk.completions.create(model="sim-cheap", prompt=QUESTION, stop=" ")
    assert stopped.choices[0].text == "[sim-cheap]" and stopped.choices[0].finish_reason == "stop"


def test_completion_stream(sdk: openai.OpenAI, http: httpx.Client) -> None:
    expected = sdk.completions.create(model="sim-cheap", prompt=QUESTION, n=2)
    stream = sdk.completions.create(
        model="sim-cheap", prompt=QUESTION, n=2, stream=True, stream_options={"include_usage": True}
    )
    texts, finishes, usage = ["", ""], [None, None], None
    with stream:
        for chunk in stream:
            assert chunk.object == "text_completion"
            for choice in chunk.choices:
                texts[choice.index] += choice.text
                finishes[choice.index] = choice.finish_reason or finishes[choice.index]
            usage = chunk.usage or usage
    assert texts == [choice.text for choice in expected.choices] and finishes == ["stop", "stop"]
    assert usage is not None and usage.completion_tokens == 80
    payload = {"model": "sim-cheap", "prompt": QUESTION, "stream": True}
    with http.stream("POST", "/v1/completions", json=payload) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [json.loads(line[6:]) for line in lines[:-1]]
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1]) and "usage" not in chunks[0]
    assert chunks[-1]["choices"][0] == {"text": "", "index": 0, "logprobs": None, "finish_reason": "stop"}


@pytest.mark.parametrize(
    ("body", "param"),
    [({"prompt": None}, "prompt"), ({"prompt": [1, "x"]}, "prompt"), ({"n": 0}, "n"), ({"echo": "yes"}, "echo")],
)
def test_bad_completion_requests_are_400(http: httpx.Client, body: dict[str, Any], param: str) -> None:
    response = http.post("/v1/completions", json={"model": "sim-cheap", "prompt": QUESTION, **body})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == param


def test_completion_errors_and_faults(sdk: openai.OpenAI, http: httpx.Client) -> None:
    with pytest.raises(openai.NotFoundError):
        sdk.completions.create(model="gpt-nope", prompt=QUESTION)
    with pytest.raises(openai.InternalServerError):
        sdk.completions.create(model="sim-cheap", prompt=QUESTION, extra_headers={"x-sim-fault": "503"})
    headers = {"x-sim-fault": "truncate;after=2"}
    payload = {"model": "sim-cheap", "prompt": QUESTION, "stream": True}
    with http.stream("POST", "/completions", json=payload, headers=headers) as response:
        lines = [line for line in response.iter_lines() if line.startswith("data: ")]
    assert len(lines) == 2 and "data: [DONE]" not in lines
    with pytest.raises(httpx.RemoteProtocolError):
        http.post("/v1/completions", json={"model": "sim-cheap", "prompt": QUESTION}, headers=headers)
