"""Issue 12, items 5, 8, 9, 10, 11: real gateway processes with Redis, keys and the simulator."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gateway.local import processes as procs
from tests.conftest import tier

MASTER = "master-key-for-tests-0123456789"
ENV = {"TRIAGE_MASTER_KEY": MASTER}
HELLO = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def gateway(sim_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    config = {
        "tiers": {"cheap": tier(sim_url, "sim-cheap", "relay"), "frontier": tier(sim_url, "sim-frontier", "relay")},
        "profiles": {
            "auto": {"router": "heuristic", "allow_tier_header": True},
            "all-frontier": {"router": "heuristic", "frontier_share": 1.0},
        },
        "auth": {"mode": "keys", "master_key_env": "TRIAGE_MASTER_KEY"},
        "redis": {"url": redis_url},
        "limits": {"header_timeout_s": 0.5},
    }
    with procs.gateway(config, tmp_path_factory.mktemp("hardening"), ENV) as url:
        yield url


def key(url: str, **spec: Any) -> str:
    created = httpx.post(f"{url}/admin/keys", headers={"Authorization": f"Bearer {MASTER}"}, json={"name": "t", **spec})
    assert created.status_code == 201, created.text
    return str(created.json()["key"])


def chat(url: str, api_key: str, headers: dict[str, str] | None = None, **body: Any) -> httpx.Response:
    return httpx.post(
        f"{url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {api_key}", **(headers or {})},
        json={"messages": HELLO, **body},
        timeout=30,
    )


def test_a_key_limited_to_profiles_names_no_tier_unless_listed(gateway: str) -> None:
    """12.5: ``profiles`` without ``tiers`` names no tier; ``tiers`` must list it explicitly."""
    only_auto = key(gateway, profiles=["auto"])
    assert chat(gateway, only_auto, model="frontier").json()["error"]["code"] == "tier_not_allowed"
    assert chat(gateway, only_auto, model="cheap").status_code == 403
    assert chat(gateway, only_auto, model="auto").status_code == 200
    nothing = key(gateway, profiles=[])
    assert chat(gateway, nothing, model="frontier").status_code == 403
    assert chat(gateway, nothing, model="auto").status_code == 403
    listed = key(gateway, profiles=["auto"], tiers=["cheap"])
    assert chat(gateway, listed, model="cheap").status_code == 200
    assert chat(gateway, listed, model="frontier").status_code == 403
    unrestricted = key(gateway)
    assert chat(gateway, unrestricted, model="frontier").status_code == 200
    bad = httpx.post(
        f"{gateway}/admin/keys", headers={"Authorization": f"Bearer {MASTER}"}, json={"name": "x", "tiers": ["nope"]}
    )
    assert bad.status_code == 400


def test_the_cache_key_includes_the_tier_a_header_pinned(gateway: str) -> None:
    """12.8: ``model: auto`` + ``x-triage-tier: frontier`` never gets a cached cheap answer."""
    api_key = key(gateway)
    body = {"model": "auto", "temperature": 0, "messages": [{"role": "user", "content": f"pin {time.time()}"}]}
    first = chat(gateway, api_key, {"x-triage-tier": "cheap"}, **body)
    assert first.headers["x-triage-tier"] == "cheap" and first.headers["x-triage-cache"] == "miss"
    again = chat(gateway, api_key, {"x-triage-tier": "cheap"}, **body)
    assert again.headers["x-triage-cache"] == "hit"
    other = chat(gateway, api_key, {"x-triage-tier": "frontier"}, **body)
    assert other.headers["x-triage-cache"] == "miss" and other.headers["x-triage-tier"] == "frontier"


def test_a_key_caps_n(gateway: str) -> None:
    """12.9: a per-key cap on ``n`` (estimates multiply by ``n``: tests/gateway/request)."""
    capped = key(gateway, max_n=2)
    assert chat(gateway, capped, model="cheap", n=2).status_code == 200
    refused = chat(gateway, capped, model="cheap", n=3)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "n"


def test_a_request_that_can_never_fit_the_tpm_is_a_400(gateway: str) -> None:
    """12.11: waiting cannot help, so no 429 with a Retry-After."""
    small = key(gateway, tpm=100)
    refused = chat(gateway, small, model="cheap", max_tokens=1000)
    assert refused.status_code == 400, refused.text
    assert refused.json()["error"]["code"] == "tokens_exceed_limit"
    assert "retry-after" not in refused.headers
    assert chat(gateway, small, model="cheap", max_tokens=20).status_code == 200


def test_no_redirect_is_built_from_the_host_header(gateway: str) -> None:
    """12.11: a trailing slash is a 404, never a redirect to the client's Host."""
    response = httpx.get(
        f"{gateway}/v1/models/", headers={"Host": "attacker.example", "Authorization": f"Bearer {MASTER}"}
    )
    assert response.status_code == 404 and "location" not in response.headers
    assert response.json()["error"]["type"] == "invalid_request_error"


def test_a_slow_client_cannot_hold_a_socket(gateway: str) -> None:
    """12.11: headers that trickle in past ``limits.header_timeout_s`` (0.5 s here) close the connection."""
    host, port = gateway.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        assert sock.recv(1024) == b""  # closed by the server
        assert time.monotonic() - started < 3
    with socket.create_connection((host, int(port)), timeout=5) as sock:  # an idle connection too
        started = time.monotonic()
        assert sock.recv(1024) == b""
        assert time.monotonic() - started < 6
    assert httpx.get(f"{gateway}/healthz").status_code == 200


def test_prompts_stay_out_of_debug_logs(sim_url: str, tmp_path: Path) -> None:
    """12.10: at ``log_level: debug`` litellm would log request bodies; not with log_prompts off."""
    marker = "SECRET-PROMPT-MARKER-7f3a"
    config = {
        "tiers": {"cheap": tier(sim_url, "sim-cheap", "litellm"), "frontier": tier(sim_url, "sim-frontier", "relay")},
        "profiles": {"auto": {"router": "heuristic"}},
        "log_level": "debug",
    }
    with procs.gateway_process(config, tmp_path, capture=True) as (url, process):
        body = {"model": "cheap", "messages": [{"role": "user", "content": marker}]}
        assert httpx.post(f"{url}/v1/chat/completions", json=body, timeout=30).status_code == 200
        procs.stop(process)
        out, err = process.communicate()
    assert b"DEBUG" in out + err  # debug logging is on...
    assert marker.encode() not in out + err  # ...but no prompt text
