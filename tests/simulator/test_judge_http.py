"""sim-judge over HTTP, against real simulator subprocesses started with ``--truth`` and ``--judge-position-bias``."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from gateway.simulator.content import tokenize
from gateway.simulator.judge import Truth
from tests.simulator.support import content, judge_messages, sse, start_simulator, stop_simulator, text_of, verdict_of

CHEAP, FRONTIER = "sim-cheap", "sim-frontier"
TRUTH_ROWS = [
    {"prompt": "Prove that there are infinitely many primes.", "scores": {CHEAP: 0.35, FRONTIER: 0.95}},
    {"prompt": "Say hello.", "scores": {CHEAP: 0.9, FRONTIER: 0.7}},
    {"prompt": "Name a colour.", "scores": {CHEAP: 0.8, FRONTIER: 0.82}},
]
PRIMES, HELLO, COLOUR = (str(row["prompt"]) for row in TRUTH_ROWS)


@pytest.fixture(scope="module")
def judged(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    path = tmp_path_factory.mktemp("truth") / "truth.jsonl"
    path.write_text("".join(json.dumps(row) + "\n" for row in TRUTH_ROWS))
    proc, url = start_simulator("--truth", str(path))
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            yield client
    finally:
        assert stop_simulator(proc) == 0


def judge(http: httpx.Client, question: str, answer_a: str, answer_b: str, **body: Any) -> dict[str, Any]:
    response = http.post(
        "/v1/chat/completions",
        json={"model": "sim-judge", "messages": judge_messages(question, answer_a, answer_b), **body},
    )
    assert response.status_code == 200, response.text
    return cast(dict[str, Any], response.json())


def verdict(http: httpx.Client, question: str, answer_a: str, answer_b: str) -> str:
    return verdict_of(judge(http, question, answer_a, answer_b)["choices"][0]["message"]["content"])


@pytest.mark.parametrize(
    ("question", "cheap_first", "frontier_first"),
    [(PRIMES, "B", "A"), (HELLO, "A", "B"), (COLOUR, "C", "C")],
)
def test_judge_follows_the_truth_file_in_both_orders(
    judged: httpx.Client, question: str, cheap_first: str, frontier_first: str
) -> None:
    cheap, frontier = content(judged, question, CHEAP), content(judged, question, FRONTIER)
    assert verdict(judged, question, cheap, frontier) == cheap_first
    assert verdict(judged, question, frontier, cheap) == frontier_first


def test_prompts_outside_the_file_use_the_seeded_defaults(judged: httpx.Client) -> None:
    seen = set()
    for i in range(12):
        question = f"Unlisted question {i}?"
        cheap, frontier = content(judged, question, CHEAP), content(judged, question, FRONTIER)
        quality_cheap, quality_frontier = Truth().quality(0, CHEAP, question), Truth().quality(0, FRONTIER, question)
        expected = (
            "C" if abs(quality_cheap - quality_frontier) < 0.05 else "A" if quality_cheap > quality_frontier else "B"
        )
        assert verdict(judged, question, cheap, frontier) == expected
        seen.add(expected)
    assert "B" in seen  # frontier usually wins


def test_judge_recognises_cut_and_json_answers(judged: httpx.Client) -> None:
    cheap_cut = content(judged, PRIMES, CHEAP, max_tokens=4)
    frontier_json = content(judged, PRIMES, FRONTIER, response_format={"type": "json_object"})
    frontier_stopped = content(judged, PRIMES, FRONTIER, stop=" the")
    structured = {
        "type": "json_schema",
        "json_schema": {"name": "a", "schema": {"properties": {"x": {"type": "string"}}}},
    }
    frontier_schema = content(judged, PRIMES, FRONTIER, response_format=structured)
    for frontier in (frontier_json, frontier_stopped, frontier_schema):
        assert verdict(judged, PRIMES, cheap_cut, frontier) == "B"
        assert verdict(judged, PRIMES, frontier, cheap_cut) == "A"
    assert verdict(judged, PRIMES, "I cannot answer that.", cheap_cut) == "B"  # unrecognised: quality 0


def test_judge_responses_are_normal_completions(judged: httpx.Client) -> None:
    cheap, frontier = content(judged, HELLO, CHEAP), content(judged, HELLO, FRONTIER)
    body = judge(judged, HELLO, cheap, frontier)
    assert body["object"] == "chat.completion" and body["model"] == "sim-judge"
    choice = body["choices"][0]
    assert choice["finish_reason"] == "stop" and choice["message"]["role"] == "assistant"
    assert choice["message"]["content"].endswith("[[A]]")
    assert body["usage"]["completion_tokens"] == len(tokenize(choice["message"]["content"]))
    assert body["usage"]["prompt_tokens"] > 100
    payload: dict[str, Any] = {"model": "sim-judge", "messages": judge_messages(HELLO, cheap, frontier)}
    events = sse(judged, **payload, stream_options={"include_usage": True})
    assert text_of(events) == choice["message"]["content"]
    assert json.loads(events[-2])["usage"] == body["usage"]


def test_sdk_judge_stream_and_plain_prompts(judged: httpx.Client) -> None:
    cheap, frontier = content(judged, PRIMES, CHEAP), content(judged, PRIMES, FRONTIER)
    messages = cast(list[ChatCompletionMessageParam], judge_messages(PRIMES, cheap, frontier))
    with openai.OpenAI(base_url=str(judged.base_url).rstrip("/") + "/v1", api_key="sk-sim", max_retries=0) as sdk:
        completion = sdk.chat.completions.create(model="sim-judge", messages=messages)
        assert verdict_of(completion.choices[0].message.content or "") == "B"
        stream = sdk.chat.completions.create(
            model="sim-judge", messages=messages, stream=True, stream_options={"include_usage": True}
        )
        text, usage = "", None
        with stream:
            for chunk in stream:
                text += chunk.choices[0].delta.content or "" if chunk.choices else ""
                usage = chunk.usage or usage
        assert text == completion.choices[0].message.content and usage == completion.usage
        plain = sdk.chat.completions.create(model="sim-judge", messages=[{"role": "user", "content": PRIMES}])
        assert (plain.choices[0].message.content or "").startswith("[sim-judge] ")


def test_position_bias_flag(tmp_path: Path) -> None:
    proc, url = start_simulator("--judge-position-bias", "1")
    try:
        with httpx.Client(base_url=url, timeout=10) as client:
            for question in (PRIMES, HELLO):
                cheap, frontier = content(client, question, CHEAP), content(client, question, FRONTIER)
                assert verdict(client, question, cheap, frontier) == verdict(client, question, frontier, cheap) == "A"
    finally:
        assert stop_simulator(proc) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--truth", "{dir}/bad.jsonl"], "truth file line 2: unknown model 'gpt-4o'"),
        (["--truth", "{dir}/missing.jsonl"], "cannot read truth file"),
        (["--judge-position-bias", "1.5"], "judge_position_bias must be in [0, 1]"),
    ],
)
def test_cli_rejects_bad_judge_options(tmp_path: Path, args: list[str], message: str) -> None:
    (tmp_path / "bad.jsonl").write_text(json.dumps(TRUTH_ROWS[0]) + '\n{"prompt": "x", "scores": {"gpt-4o": 1}}\n')
    command = [sys.executable, "-m", "gateway.simulator", "--port", "0", *(a.format(dir=tmp_path) for a in args)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=30, check=False)
    assert result.returncode == 2 and message in result.stderr
