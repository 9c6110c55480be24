"""Issue 12.6: a client that disconnects mid-stream is still counted, priced and settled.

With Redis and a key with RPM/TPM limits, a client reads the first events of a stream
and closes the connection. The request must still be recorded (metric and log line),
its tokens counted (tiktoken for what was produced), and the TPM estimate corrected.
"""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import httpx
import orjson
import pytest
import redis

from gateway.local import processes as procs
from tests.conftest import tier

MASTER = "master-key-for-tests-0123456789"


@pytest.fixture(scope="module")
def slow_sim() -> Iterator[str]:
    """A simulator slow enough that a stream is still running when the client leaves."""
    with procs.simulator(["--ttft-ms", "5", "--tokens-per-s", "50", "--answer-tokens", "200"]) as url:
        yield url


@pytest.fixture(scope="module")
def keyed(slow_sim: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = {
        "tiers": {"cheap": tier(slow_sim, "sim-cheap", "relay"), "frontier": tier(slow_sim, "sim-frontier", "relay")},
        "profiles": {"auto": {"router": "heuristic"}},
        "auth": {"mode": "keys", "master_key_env": "TRIAGE_MASTER_KEY"},
        "redis": {"url": redis_url},
    }
    with procs.gateway(config, tmp_path_factory.mktemp("disconnect"), {"TRIAGE_MASTER_KEY": MASTER}) as url:
        yield url


def _metric(url: str, name: str, **labels: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _read_then_leave(url: str, key: str, events: int) -> None:
    """Send a streaming request on a raw socket, read a few events, close the connection."""
    host, port = url.removeprefix("http://").split(":")
    body = orjson.dumps(
        {
            "model": "cheap",
            "stream": True,
            "max_tokens": 400,
            "messages": [{"role": "user", "content": "tell me a long story"}],
        }
    )
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {key}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    ).encode()
    with socket.create_connection((host, int(port))) as sock:
        sock.sendall(head + body)
        received = b""
        while received.count(b"data: ") < events:
            received += sock.recv(4096)
        assert b"200 OK" in received


def test_a_client_leaving_mid_stream_is_recorded_and_settled(keyed: str, redis_url: str) -> None:
    created = httpx.post(
        f"{keyed}/admin/keys",
        headers={"Authorization": f"Bearer {MASTER}"},
        json={"name": "s", "rpm": 100, "tpm": 100000},
    ).json()
    before_requests = _metric(keyed, "triage_requests_total", tier="cheap")
    before_output = _metric(keyed, "triage_tokens_total", direction="output")
    _read_then_leave(keyed, created["key"], events=3)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and _metric(keyed, "triage_requests_total", tier="cheap") == before_requests:
        time.sleep(0.1)
    assert _metric(keyed, "triage_requests_total", tier="cheap") == before_requests + 1
    output = _metric(keyed, "triage_tokens_total", direction="output") - before_output
    assert 1 <= output < 200, output  # what was produced before the client left, not the whole answer
    assert _metric(keyed, "triage_cost_usd_total", tier="cheap") > 0
    counters = redis.Redis.from_url(redis_url).keys(f"triage:rl:{{{created['id']}}}:*:t")
    counted = sum(int(redis.Redis.from_url(redis_url).get(k) or 0) for k in counters)
    # the admission estimate (text/4 + 400 max tokens) was replaced by the tokens actually used
    assert 0 < counted < 200, counted
