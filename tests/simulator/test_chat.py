"""Provider behaviour of a real simulator subprocess: JSON mode, structured outputs, stop sequences, logprobs."""

from __future__ import annotations

import json
import math
from typing import Any, Literal

import httpx
import jsonschema
import openai
import pytest
from openai.types.chat import ChatCompletionTokenLogprob
from pydantic import BaseModel, Field

from tests.simulator.support import PROMPT, SDK_PROMPT, chat, content, sse, text_of


class Step(BaseModel):
    explanation: str
    output: str


class Forecast(BaseModel):
    city: str
    unit: Literal["celsius", "fahrenheit"]
    days: int = Field(ge=1, le=7)
    temperatures: list[float] = Field(min_length=2, max_length=4)
    note: str | None
    steps: list[Step]
    final_answer: str


def schema_format(schema: dict[str, Any], strict: bool = True) -> dict[str, Any]:
    return {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema, "strict": strict}}


STRICT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "title": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "minItems": 1, "maxItems": 2},
        "meta": {
            "type": "object",
            "properties": {"score": {"type": "number", "minimum": 0, "maximum": 1}, "ok": {"type": "boolean"}},
            "required": ["score", "ok"],
            "additionalProperties": False,
        },
    },
    "required": ["title", "tags", "meta"],
    "additionalProperties": False,
}


# --- response_format -------------------------------------------------------------------------------------------


def test_json_object_mode(http: httpx.Client, sdk: openai.OpenAI) -> None:
    body = chat(http, response_format={"type": "json_object"}).json()
    text = body["choices"][0]["message"]["content"]
    value = json.loads(text)
    assert isinstance(value, dict) and value["answer"] == content(http, PROMPT[0]["content"])
    assert body["choices"][0]["finish_reason"] == "stop" and body["usage"]["completion_tokens"] > 40
    completion = sdk.chat.completions.create(
        model="sim-frontier", messages=SDK_PROMPT, response_format={"type": "json_object"}
    )
    assert json.loads(completion.choices[0].message.content or "")["answer"].startswith("[sim-frontier] ")
    assert chat(http, response_format={"type": "text"}).json()["choices"][0]["message"]["content"].startswith("[")


def test_json_object_stream_is_the_same_json(http: httpx.Client) -> None:
    events = sse(http, response_format={"type": "json_object"})
    pieces = [json.loads(e)["choices"][0]["delta"].get("content") for e in events[1:-2]]
    assert len(pieces) > 10 and all(pieces)
    assert (
        text_of(events)
        == chat(http, response_format={"type": "json_object"}).json()["choices"][0]["message"]["content"]
    )


def test_sdk_parse_with_a_pydantic_model(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.parse(model="sim-frontier", messages=SDK_PROMPT, response_format=Forecast)
    message = completion.choices[0].message
    assert isinstance(message.parsed, Forecast) and message.refusal is None
    assert message.parsed.city or message.parsed.steps
    again = sdk.chat.completions.parse(model="sim-frontier", messages=SDK_PROMPT, response_format=Forecast)
    assert again.choices[0].message.parsed == message.parsed  # deterministic in (seed, model, prompt)
    other = sdk.chat.completions.parse(model="sim-cheap", messages=SDK_PROMPT, response_format=Forecast)
    assert other.choices[0].message.parsed != message.parsed


def test_sdk_stream_with_a_pydantic_model(sdk: openai.OpenAI) -> None:
    with sdk.chat.completions.stream(model="sim-cheap", messages=SDK_PROMPT, response_format=Forecast) as stream:
        deltas = [event for event in stream if event.type == "content.delta"]
        final = stream.get_final_completion()
    assert len(deltas) > 10
    parsed = final.choices[0].message.parsed
    assert isinstance(parsed, Forecast)
    plain = sdk.chat.completions.parse(model="sim-cheap", messages=SDK_PROMPT, response_format=Forecast)
    assert plain.choices[0].message.parsed == parsed


@pytest.mark.parametrize("strict", [True, False])
def test_json_schema_instances_validate(http: httpx.Client, strict: bool) -> None:
    for i in range(8):
        messages = [{"role": "user", "content": f"Describe thing {i}"}]
        body = chat(http, messages=messages, response_format=schema_format(STRICT_SCHEMA, strict)).json()
        jsonschema.validate(json.loads(body["choices"][0]["message"]["content"]), STRICT_SCHEMA)
    events = sse(http, response_format=schema_format(STRICT_SCHEMA))
    jsonschema.validate(json.loads(text_of(events)), STRICT_SCHEMA)


@pytest.mark.parametrize(
    ("response_format", "message"),
    [
        (schema_format({**STRICT_SCHEMA, "additionalProperties": True}), "'additionalProperties' is required"),
        (schema_format({**STRICT_SCHEMA, "required": ["title"]}), "Missing 'tags'"),
        (schema_format({"type": "string"}), 'type: "object"'),
        ({"type": "json_schema", "json_schema": {"schema": STRICT_SCHEMA}}, "json_schema.name"),
        ({"type": "xml"}, "response_format.type"),
    ],
)
def test_bad_response_formats_are_400(http: httpx.Client, response_format: dict[str, Any], message: str) -> None:
    response = chat(http, response_format=response_format)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "response_format" and message in error["message"]


def test_non_strict_schemas_are_not_checked(http: httpx.Client) -> None:
    loose = {"type": "object", "properties": {"n": {"type": "integer"}}}
    value = json.loads(
        chat(http, response_format=schema_format(loose, False)).json()["choices"][0]["message"]["content"]
    )
    assert isinstance(value["n"], int)


def test_max_tokens_cuts_json_with_length(http: httpx.Client) -> None:
    body = chat(http, response_format={"type": "json_object"}, max_tokens=5).json()
    assert body["choices"][0]["finish_reason"] == "length" and body["usage"]["completion_tokens"] == 5
    with pytest.raises(json.JSONDecodeError):
        json.loads(body["choices"][0]["message"]["content"])


# --- stop ------------------------------------------------------------------------------------------------------


def test_stop_cuts_before_the_first_stop_sequence(http: httpx.Client, sdk: openai.OpenAI) -> None:
    full = content(http, "What is the capital of France?")
    words = full.split()
    later, earlier = " " + words[9], " " + words[4]
    cut = min(full.find(later), full.find(earlier))
    for stop in (earlier, [later, earlier], [later, "zzz", earlier, "qqq"]):
        body = chat(http, stop=stop).json()
        assert body["choices"][0]["message"]["content"] == full[:cut]
        assert body["choices"][0]["finish_reason"] == "stop"
        assert body["usage"]["completion_tokens"] == len(full[:cut].split())
        assert text_of(sse(http, stop=stop)) == full[:cut]
    completion = sdk.chat.completions.create(model="sim-cheap", messages=SDK_PROMPT, stop=earlier)
    assert completion.choices[0].message.content == full[:cut] and completion.choices[0].finish_reason == "stop"
    untouched = chat(http, stop=["zzz"]).json()["choices"][0]
    assert untouched["message"]["content"] == full and untouched["finish_reason"] == "stop"


def test_stop_mid_token_and_common_words(http: httpx.Client) -> None:
    full = content(http, "What is the capital of France?")
    assert chat(http, stop="im-ch").json()["choices"][0]["message"]["content"] == "[s"
    assert chat(http, stop="[").json()["choices"][0]["message"]["content"] == ""
    prompts = [f"Question {i}: why?" for i in range(20)]
    hits = sum(" the " in content(http, p) for p in prompts)
    assert 0 < hits < len(prompts)  # common words make stop sequences fire sometimes, not always
    assert chat(http, stop=".").json()["choices"][0]["message"]["content"] == full[:-1]


def test_stop_after_max_tokens_is_length(http: httpx.Client) -> None:
    full = content(http, "What is the capital of France?")
    body = chat(http, stop=" " + full.split()[10], max_tokens=4).json()
    assert body["choices"][0]["finish_reason"] == "length"
    assert body["choices"][0]["message"]["content"] == " ".join(full.split()[:4])


def test_stop_in_json_mode(http: httpx.Client) -> None:
    body = chat(http, response_format={"type": "json_object"}, stop='"}').json()
    assert body["choices"][0]["finish_reason"] == "stop"
    assert body["choices"][0]["message"]["content"].startswith('{"answer":"[sim-cheap]')


@pytest.mark.parametrize("stop", [["a", "b", "c", "d", "e"], 3, [1]])
def test_bad_stop_is_400(http: httpx.Client, stop: Any) -> None:
    response = chat(http, stop=stop)
    assert response.status_code == 400 and response.json()["error"]["param"] == "stop"


# --- logprobs --------------------------------------------------------------------------------------------------


def check_logprobs(entries: list[dict[str, Any]], text: str, top: int) -> None:
    assert "".join(e["token"] for e in entries) == text
    for entry in entries:
        assert entry["logprob"] <= 0 and entry["bytes"] == list(entry["token"].encode())
        assert len(entry["top_logprobs"]) == top
        assert all(t["logprob"] <= 0 and t["bytes"] == list(t["token"].encode()) for t in entry["top_logprobs"])
        assert sum(math.exp(t["logprob"]) for t in entry["top_logprobs"]) <= 1.0 + 1e-9
        if top:
            assert entry["token"] in [t["token"] for t in entry["top_logprobs"]]


def test_logprobs_non_stream(http: httpx.Client) -> None:
    body = chat(http, logprobs=True, top_logprobs=3).json()
    choice = body["choices"][0]
    entries = choice["logprobs"]["content"]
    assert len(entries) == body["usage"]["completion_tokens"] == 40 and choice["logprobs"]["refusal"] is None
    check_logprobs(entries, choice["message"]["content"], 3)
    plain = chat(http, logprobs=True).json()["choices"][0]["logprobs"]["content"]
    assert all(e["top_logprobs"] == [] for e in plain) and [e["logprob"] for e in plain] == [
        e["logprob"] for e in entries
    ]
    assert chat(http).json()["choices"][0]["logprobs"] is None


def test_logprobs_stream_match_non_stream(http: httpx.Client) -> None:
    request: dict[str, Any] = {"logprobs": True, "top_logprobs": 2, "stop": "zzz", "n": 2, "max_tokens": 6}
    body = chat(http, **request).json()
    events = [json.loads(e) for e in sse(http, **request)[:-1]]
    for index in (0, 1):
        streamed = []
        for event in events:
            for choice in event["choices"]:
                if choice["index"] == index and choice["delta"].get("content"):
                    (entry,) = choice["logprobs"]["content"]
                    assert entry["token"] == choice["delta"]["content"]
                    streamed.append(entry)
        assert streamed == body["choices"][index]["logprobs"]["content"]
        check_logprobs(streamed, body["choices"][index]["message"]["content"], 2)


def test_logprobs_with_json_and_stop(http: httpx.Client) -> None:
    body = chat(http, logprobs=True, top_logprobs=1, response_format={"type": "json_object"}, stop=" the").json()
    choice = body["choices"][0]
    check_logprobs(choice["logprobs"]["content"], choice["message"]["content"], 1)
    assert len(choice["logprobs"]["content"]) == body["usage"]["completion_tokens"]


def test_sdk_logprobs_types(sdk: openai.OpenAI) -> None:
    completion = sdk.chat.completions.create(model="sim-frontier", messages=SDK_PROMPT, logprobs=True, top_logprobs=5)
    logprobs = completion.choices[0].logprobs
    assert logprobs is not None and logprobs.content is not None
    assert all(isinstance(t, ChatCompletionTokenLogprob) and len(t.top_logprobs) == 5 for t in logprobs.content)
    stream = sdk.chat.completions.create(
        model="sim-frontier", messages=SDK_PROMPT, logprobs=True, top_logprobs=1, stream=True
    )
    tokens: list[str] = []
    with stream:
        for chunk in stream:
            if chunk.choices and chunk.choices[0].logprobs and chunk.choices[0].logprobs.content:
                tokens.extend(t.token for t in chunk.choices[0].logprobs.content)
    assert tokens == [t.token for t in logprobs.content]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"top_logprobs": 2}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"logprobs": "yes"}, "logprobs"),
    ],
)
def test_bad_logprobs_are_400(http: httpx.Client, fields: dict[str, Any], param: str) -> None:
    response = chat(http, **fields)
    assert response.status_code == 400 and response.json()["error"]["param"] == param
