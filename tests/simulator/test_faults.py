"""The simulator's fault injection, seeding and shutdown, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from typing import Any

import httpx
import openai
import pytest

from gateway.simulator.faults import FaultSpec, parse_flag, parse_header
from gateway.simulator.server import SimulatorConfig, SimulatorServer
from tests.simulator.support import (
    PROMPT,
    SDK_PROMPT,
    chat,
    sse,
    start_simulator,
    stop_simulator,
    unique_key,
)


def test_fault_429_with_retry_after(http: httpx.Client) -> None:
    response = chat(http, fault="429")
    assert response.status_code == 429 and response.headers["retry-after"] == "0"
    assert response.json()["error"]["type"] == "rate_limit_error"
    assert chat(http, fault="429;retry_after=3").headers["retry-after"] == "3"


@pytest.mark.parametrize("status", [500, 503])
def test_fault_server_errors(http: httpx.Client, status: int) -> None:
    response = chat(http, fault=str(status))
    assert response.status_code == status
    error = response.json()["error"]
    assert error["type"] == "server_error" and set(error) == {"message", "type", "param", "code"}
    assert chat(http).status_code == 200  # the connection is still good


def test_fault_timeout(base_url: str, http: httpx.Client) -> None:
    with httpx.Client(base_url=base_url, timeout=0.3) as client, pytest.raises(httpx.ReadTimeout):
        chat(client, fault="timeout")
    assert http.get("/health").status_code == 200


def test_fault_reset(http: httpx.Client) -> None:
    with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
        chat(http, fault="reset")
    assert chat(http).status_code == 200


def test_fault_reset_mid_stream(http: httpx.Client) -> None:
    payload = {"model": "sim-cheap", "messages": PROMPT, "stream": True}
    events: list[dict[str, Any]] = []
    headers = {"x-sim-fault": "reset;after=2"}
    with (
        pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)),
        http.stream("POST", "/v1/chat/completions", json=payload, headers=headers) as response,
    ):
        assert response.status_code == 200
        events.extend(json.loads(line[6:]) for line in response.iter_lines() if line.startswith("data: "))
    contents = [e for e in events if e["choices"][0]["delta"].get("content")]
    assert len(contents) == 2 and events[0]["choices"][0]["delta"]["role"] == "assistant"


def test_fault_truncate_stream(http: httpx.Client) -> None:
    events = sse(http, fault="truncate;after=4")
    assert "[DONE]" not in events
    chunks = [json.loads(e) for e in events]
    assert len(chunks) == 5  # role chunk + 4 content chunks
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks)


def test_fault_truncate_non_stream(http: httpx.Client) -> None:
    with pytest.raises(httpx.RemoteProtocolError):
        chat(http, fault="truncate")


def test_fault_malformed(http: httpx.Client, sdk: openai.OpenAI) -> None:
    response = chat(http, fault="malformed")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)
    events = sse(http, fault="malformed;after=1")
    broken = []
    for event in events[:-1]:
        try:
            json.loads(event)
        except json.JSONDecodeError:
            broken.append(event)
    assert len(broken) == 1 and events[-1] == "[DONE]"


def test_fault_first_n_then_success(http: httpx.Client) -> None:
    fault = f"500;first=2;key={unique_key()}"
    assert [chat(http, fault=fault).status_code for _ in range(4)] == [500, 500, 200, 200]


def test_sdk_retries_absorb_a_burst(base_url: str) -> None:
    with openai.OpenAI(base_url=base_url + "/v1", api_key="sk-sim", max_retries=2) as client:
        completion = client.chat.completions.create(
            model="sim-cheap",
            messages=SDK_PROMPT,
            extra_headers={"x-sim-fault": f"503;first=1;key={unique_key()}"},
        )
    assert completion.choices[0].message.content is not None


def test_bad_fault_header_is_400(http: httpx.Client) -> None:
    response = chat(http, fault="explode")
    assert response.status_code == 400
    assert "x-sim-fault" in response.json()["error"]["message"]


def test_fault_grammar() -> None:
    assert parse_header("429;retry_after=5, reset;rate=0.5;after=1") == (
        FaultSpec("429", retry_after="5"),
        FaultSpec("reset", rate=0.5, after=1),
    )
    assert parse_header("500;first=2;key=burst") == (FaultSpec("500", first=2, key="burst"),)
    assert parse_flag("reset=0.05;after=2") == FaultSpec("reset", rate=0.05, after=2)
    for bad in ("nope", "500;rate=2", "500;first=-1", "500;color=red", "500;rate"):
        with pytest.raises(ValueError):
            parse_header(bad)
    with pytest.raises(ValueError):
        parse_flag("500")


async def _statuses(config: SimulatorConfig, count: int) -> list[int]:
    server = SimulatorServer(config)
    port = await server.start("127.0.0.1", 0)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            body = {"model": "sim-cheap", "messages": PROMPT}
            return [(await client.post("/v1/chat/completions", json=body)).status_code for _ in range(count)]
    finally:
        await server.close()


async def test_server_fault_rates_are_seeded() -> None:
    config = SimulatorConfig(ttft_ms=0, tokens_per_s=100000, faults=(parse_flag("500=0.5"),))
    first = await _statuses(config, 30)
    assert await _statuses(config, 30) == first
    assert 0 < first.count(500) < 30 and set(first) == {200, 500}


async def test_close_cancels_hung_requests() -> None:
    server = SimulatorServer(SimulatorConfig())
    port = await server.start("127.0.0.1", 0)
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
        body = {"model": "sim-cheap", "messages": PROMPT}
        request = client.post("/v1/chat/completions", json=body, headers={"x-sim-fault": "timeout"})
        pending = asyncio.ensure_future(request)
        await asyncio.sleep(0.1)
        started = time.perf_counter()
        await server.close()
        assert time.perf_counter() - started < 1
        with pytest.raises(httpx.TransportError):
            await pending


def test_sigint_exits_cleanly() -> None:
    proc, url = start_simulator("--log")
    assert httpx.get(url + "/health").status_code == 200
    assert stop_simulator(proc, signal.SIGINT) == 0
