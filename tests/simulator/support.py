"""Shared pieces of the simulator tests: a real simulator process, fixtures, request helpers."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import uuid
from typing import Any, cast

import httpx
from openai.types.chat import ChatCompletionMessageParam, ChatCompletionToolParam

PROMPT = [{"role": "user", "content": "What is the capital of France?"}]
WEATHER_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
                "detailed": {"type": "boolean"},
            },
            "required": ["city", "unit", "days", "detailed"],
        },
    },
}
TIME_TOOL: dict[str, Any] = {
    "type": "function",
    "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}, "required": []}},
}
SDK_PROMPT = cast(list[ChatCompletionMessageParam], PROMPT)
SDK_WEATHER, SDK_TIME = cast(ChatCompletionToolParam, WEATHER_TOOL), cast(ChatCompletionToolParam, TIME_TOOL)


def start_simulator(*extra: str) -> tuple[subprocess.Popen[str], str]:
    command = [sys.executable, "-m", "gateway.simulator", "--port", "0", "--ttft-ms", "5", "--tokens-per-s", "2000"]
    proc = subprocess.Popen([*command, *extra], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    assert line.startswith("simulator listening on http://"), line
    return proc, line.split(" on ", 1)[1].strip()


def stop_simulator(proc: subprocess.Popen[str], signum: int = signal.SIGTERM) -> int:
    proc.send_signal(signum)
    try:
        return proc.wait(timeout=10)
    finally:
        if proc.stdout is not None:
            proc.stdout.close()


def chat(http: httpx.Client, *, fault: str | None = None, **body: Any) -> httpx.Response:
    payload = {"model": "sim-cheap", "messages": PROMPT, **body}
    headers = {"x-sim-fault": fault} if fault else {}
    return http.post("/v1/chat/completions", json=payload, headers=headers)


def sse(http: httpx.Client, *, fault: str | None = None, **body: Any) -> list[str]:
    """The data payloads of a streamed completion, in order."""
    payload = {"model": "sim-cheap", "messages": PROMPT, "stream": True, **body}
    headers = {"x-sim-fault": fault} if fault else {}
    with http.stream("POST", "/v1/chat/completions", json=payload, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return [line.removeprefix("data: ") for line in response.iter_lines() if line.startswith("data: ")]


def text_of(events: list[str]) -> str:
    chunks = [json.loads(e) for e in events if e != "[DONE]"]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])


def unique_key() -> str:
    return uuid.uuid4().hex


JUDGE_SYSTEM = (
    "Please act as an impartial judge and evaluate the quality of the responses provided by two AI assistants "
    "to the user question displayed below. Output your final verdict by strictly following this format: "
    '"[[A]]" if assistant A is better, "[[B]]" if assistant B is better, and "[[C]]" for a tie.'
)


def judge_messages(question: str, answer_a: str, answer_b: str) -> list[dict[str, str]]:
    """The gateway's pairwise judge prompt (a system and a user message)."""
    user = (
        f"[User Question]\n{question}\n\n"
        f"[The Start of Assistant A's Answer]\n{answer_a}\n[The End of Assistant A's Answer]\n\n"
        f"[The Start of Assistant B's Answer]\n{answer_b}\n[The End of Assistant B's Answer]"
    )
    return [{"role": "system", "content": JUDGE_SYSTEM}, {"role": "user", "content": user}]


def verdict_of(text: str) -> str:
    """ "A", "B" or "C" from a judge answer ending in [[X]]."""
    found = re.findall(r"\[\[([ABC])\]\]", text)
    assert len(found) == 1, text
    return str(found[0])


def content(http: httpx.Client, prompt: str, model: str = "sim-cheap", **body: Any) -> str:
    """The content of a non-streamed completion for one user prompt."""
    messages = [{"role": "user", "content": prompt}]
    response = chat(http, model=model, messages=messages, **body)
    assert response.status_code == 200, response.text
    return str(response.json()["choices"][0]["message"]["content"])


# --- plain endpoints -------------------------------------------------------------------------------------------
