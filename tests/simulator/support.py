"""Shared pieces of the simulator tests: a real simulator process, fixtures, request helpers."""

from __future__ import annotations

import json
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


# --- plain endpoints -------------------------------------------------------------------------------------------
