"""Graceful shutdown of a real ``triage serve`` process on SIGTERM / SIGINT.

The simulator streams 40 tokens at 20 tokens/s (~2 s a stream). On SIGTERM the gateway must
answer /readyz and new chat requests with 503 ``shutting_down`` for ``--drain-delay-s``, let
the running stream finish, and exit 0; a stream longer than ``--grace-s`` is cut, and the
process still exits 0 within the bound.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from gateway.local import processes as procs
from gateway.simulator.content import answer_pieces

ANSWER_TOKENS = 40
SLOW_SIMULATOR = ["--ttft-ms", "5", "--tokens-per-s", "20", "--answer-tokens", str(ANSWER_TOKENS)]
MESSAGES = [{"role": "user", "content": "Tell me about graceful shutdown."}]
SHUTTING_DOWN = {"type": "service_unavailable", "param": None, "code": "shutting_down"}


def _config(sim_url: str, port: int) -> dict[str, Any]:
    price = {"input_per_mtok": 0.1, "output_per_mtok": 0.4}
    return {
        "listen": {"host": "127.0.0.1", "port": port},
        "tiers": {
            "cheap": {"model": "openai/sim-cheap", "api_base": sim_url, "price": price, "timeout_s": 10},
            "frontier": {"model": "openai/sim-frontier", "api_base": sim_url, "price": price, "timeout_s": 10},
        },
        "profiles": {"auto": {"router": "heuristic"}},
    }


@contextlib.contextmanager
def serving(sim_url: str, directory: Path, args: list[str]) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``triage serve`` with extra flags; yields (base URL, process)."""
    port = procs.free_port()
    path = directory / "triage.yaml"
    path.write_text(yaml.safe_dump(_config(sim_url, port)))
    command = [sys.executable, "-m", "gateway", "serve", "--config", str(path), "--workers", "1", *args]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "LITELLM_LOCAL_MODEL_COST_MAP": "True"}
    process = subprocess.Popen(command, env=env, cwd=procs.ROOT)
    try:
        procs.wait_http(f"http://127.0.0.1:{port}/readyz", process)
        yield f"http://127.0.0.1:{port}", process
    finally:
        procs.stop(process)


@pytest.fixture(scope="module")
def slow_sim() -> Iterator[str]:
    with procs.simulator(SLOW_SIMULATOR) as url:
        yield url


def _chat(stream: bool) -> dict[str, Any]:
    return {"model": "cheap", "messages": MESSAGES, "stream": stream}


def _data_lines(lines: Iterator[str]) -> Iterator[str]:
    return (line.removeprefix("data: ") for line in lines if line.startswith("data: "))


def _text(events: list[str]) -> str:
    chunks = [json.loads(e) for e in events if e != "[DONE]"]
    return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))


def _until_not_ready(client: httpx.Client, timeout_s: float) -> httpx.Response:
    deadline = time.monotonic() + timeout_s
    while True:
        response = client.get("/readyz")
        if response.status_code != 200 or time.monotonic() > deadline:
            return response
        time.sleep(0.01)


def test_sigterm_drains_lets_the_stream_finish_and_exits_zero(slow_sim: str, tmp_path: Path) -> None:
    with (
        serving(slow_sim, tmp_path, ["--drain-delay-s", "1", "--grace-s", "10"]) as (url, process),
        httpx.Client(base_url=url, timeout=30) as streamer,
        httpx.Client(base_url=url, timeout=5) as other,
        streamer.stream("POST", "/v1/chat/completions", json=_chat(stream=True)) as response,
    ):
        assert response.status_code == 200
        events = _data_lines(response.iter_lines())
        received = [next(events)]
        assert other.get("/readyz").status_code == 200
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()

        ready = _until_not_ready(other, timeout_s=0.8)
        assert ready.status_code == 503
        assert ready.json()["error"]["code"] == "shutting_down"
        refused = other.post("/v1/chat/completions", json=_chat(stream=False))
        assert refused.status_code == 503
        body = refused.json()
        assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
        assert {k: body["error"][k] for k in ("type", "param", "code")} == SHUTTING_DOWN
        assert other.get("/healthz").status_code == 200, "still alive: liveness must not fail while draining"

        received += list(events)
        finished = time.monotonic() - signalled
        assert process.poll() is None, "the process waited for the stream"

    assert received[-1] == "[DONE]"
    assert _text(received) == "".join(answer_pieces(0, "sim-cheap", MESSAGES, ANSWER_TOKENS))
    assert finished > 1.0, "the stream outlived the drain delay, so it ran through uvicorn's shutdown"
    assert process.wait(timeout=15) == 0


def test_a_stream_longer_than_the_grace_period_is_cut_and_the_exit_is_still_clean(
    slow_sim: str, tmp_path: Path
) -> None:
    with (
        serving(slow_sim, tmp_path, ["--drain-delay-s", "0.2", "--grace-s", "1"]) as (url, process),
        httpx.Client(base_url=url, timeout=30) as streamer,
        streamer.stream("POST", "/v1/chat/completions", json=_chat(stream=True)) as response,
    ):
        events = _data_lines(response.iter_lines())
        received = [next(events)]
        process.send_signal(signal.SIGTERM)
        signalled = time.monotonic()
        with contextlib.suppress(httpx.RemoteProtocolError):  # the connection closes mid-body
            received += list(events)
        assert process.wait(timeout=10) == 0
        stopped = time.monotonic() - signalled
    assert "[DONE]" not in received, "40 tokens at 20/s cannot finish within 0.2 s + 1 s"
    assert stopped < 5.0


def test_sigint_when_idle_exits_zero_after_the_drain_delay(slow_sim: str, tmp_path: Path) -> None:
    with serving(slow_sim, tmp_path, ["--drain-delay-s", "0.5"]) as (url, process):
        process.send_signal(signal.SIGINT)
        signalled = time.monotonic()
        assert process.wait(timeout=10) == 0
        assert time.monotonic() - signalled >= 0.5
        with pytest.raises(httpx.ConnectError):
            httpx.get(f"{url}/healthz", timeout=1)


def test_a_second_signal_skips_the_rest_of_the_drain_delay(slow_sim: str, tmp_path: Path) -> None:
    with (
        serving(slow_sim, tmp_path, ["--drain-delay-s", "60"]) as (url, process),
        httpx.Client(base_url=url, timeout=5) as client,
    ):
        process.send_signal(signal.SIGTERM)
        assert _until_not_ready(client, timeout_s=5).status_code == 503
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
