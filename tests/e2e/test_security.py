"""API keys, rate limits and fail-closed auth, against real gateway processes and a real Redis."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml

from gateway.local import processes as procs
from tests.conftest import tier

MASTER = "master-key-for-tests-0123456789"
ENV = {"TRIAGE_MASTER_KEY": MASTER}
HELLO = [{"role": "user", "content": "hello"}]


def keys_config(sim_url: str, redis_url: str | None) -> dict[str, Any]:
    return {
        "tiers": {"cheap": tier(sim_url, "sim-cheap", "relay"), "frontier": tier(sim_url, "sim-frontier", "relay")},
        "profiles": {
            "auto": {"router": "heuristic", "frontier_share": 0.3},
            "all-frontier": {"router": "heuristic", "frontier_share": 1.0},
        },
        "auth": {"mode": "keys", "master_key_env": "TRIAGE_MASTER_KEY", "verified_cache_s": 60},
        "redis": {"url": redis_url, "retry_interval_s": 0.2},
    }


def admin(url: str, method: str, path: str = "/admin/keys", key: str = MASTER, **body: Any) -> httpx.Response:
    return httpx.request(
        method, f"{url}{path}", headers={"Authorization": f"Bearer {key}"}, json=body if method == "POST" else None
    )


def chat(url: str, key: str | None, model: str = "auto", **extra: Any) -> httpx.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(
        f"{url}/v1/chat/completions", headers=headers, json={"model": model, "messages": HELLO, **extra}, timeout=30
    )


@pytest.fixture(scope="module")
def pair(sim_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """Two gateway processes sharing one real Redis."""
    directory = tmp_path_factory.mktemp("security")
    config = keys_config(sim_url, redis_url)
    with procs.gateway(config, directory, ENV) as a, procs.gateway(config, directory, ENV) as b:
        yield a, b


def is_openai_error(response: httpx.Response, status: int, code: str | None = None) -> bool:
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    return response.status_code == status and (code is None or error["code"] == code)


def test_refusals(pair: tuple[str, str]) -> None:
    a, _ = pair
    assert is_openai_error(chat(a, None), 401, "invalid_api_key")
    assert is_openai_error(chat(a, "tri-not-a-real-key"), 401, "invalid_api_key")
    assert is_openai_error(httpx.get(f"{a}/v1/models"), 401)
    assert is_openai_error(admin(a, "GET", key="wrong"), 401)
    key = admin(a, "POST", name="expiring", ttl_s=1).json()["key"]
    assert chat(a, key).status_code == 200
    time.sleep(1.2)
    assert is_openai_error(chat(a, key), 401, "expired_api_key")


def test_keys_are_created_listed_without_secrets_and_revoked_everywhere(pair: tuple[str, str]) -> None:
    a, b = pair
    created = admin(a, "POST", name="app-1", rpm=1000)
    assert created.status_code == 201
    body = created.json()
    key, key_id = body["key"], body["id"]
    assert key.startswith("tri-") and key_id.startswith("key_")
    with openai.OpenAI(base_url=f"{b}/v1", api_key=key, max_retries=0) as sdk:
        assert sdk.chat.completions.create(model="auto", messages=HELLO).choices[0].message.content
        assert {m.id for m in sdk.models.list()} >= {"auto", "cheap"}
    listing = admin(b, "GET")
    assert listing.status_code == 200
    assert key_id in {k["id"] for k in listing.json()["data"]}
    assert key not in listing.text and key[8:] not in listing.text, "no secret in the listing"
    assert is_openai_error(admin(a, "GET", key=key), 403, "permission_denied")
    assert admin(a, "DELETE", f"/admin/keys/{key_id}").json()["deleted"] is True
    assert is_openai_error(chat(a, key), 401) and is_openai_error(chat(b, key), 401)
    assert is_openai_error(admin(a, "DELETE", f"/admin/keys/{key_id}"), 404, "key_not_found")


def test_a_key_is_held_to_its_profiles_and_tiers(pair: tuple[str, str]) -> None:
    a, _ = pair
    key = admin(a, "POST", name="narrow", profiles=["auto"], tiers=["cheap"]).json()["key"]
    assert is_openai_error(chat(a, key, "all-frontier"), 403, "model_not_allowed")
    assert is_openai_error(chat(a, key, "frontier"), 403, "tier_not_allowed")
    hard = "Prove step by step why this holds, then derive and compare: " + "x " * 200
    routed = chat(a, key, messages=[{"role": "user", "content": hard}])
    assert routed.status_code == 200 and routed.headers["x-triage-tier"] == "cheap"
    assert is_openai_error(admin(a, "POST", name="bad", profiles=["nope"]), 400)


def test_two_gateways_enforce_one_rpm_limit(pair: tuple[str, str]) -> None:
    a, b = pair
    key = admin(a, "POST", name="limited", rpm=10).json()["key"]
    if time.time() % 60 > 50:  # keep the burst inside one minute window
        time.sleep(61 - time.time() % 60)
    responses = [chat(a if i % 2 else b, key) for i in range(20)]
    ok = [r for r in responses if r.status_code == 200]
    limited = [r for r in responses if r.status_code == 429]
    assert len(ok) == 10 and len(limited) == 10
    for response in limited:
        assert is_openai_error(response, 429, "rate_limit_exceeded")
        assert int(response.headers["Retry-After"]) >= 1
        assert response.headers["x-ratelimit-limit-requests"] == "10"
        assert response.headers["x-ratelimit-remaining-requests"] == "0"
    assert ok[0].headers["x-ratelimit-remaining-requests"] == "9"


def test_redis_down_fails_closed_except_recently_verified_keys(sim_url: str, tmp_path: Path) -> None:
    port = procs.free_port()
    with (
        procs.redis_server(tmp_path, port=port) as (redis_url, redis_process),
        procs.gateway(keys_config(sim_url, redis_url), tmp_path, ENV) as url,
    ):
        seen = admin(url, "POST", name="seen").json()["key"]
        unseen = admin(url, "POST", name="unseen").json()["key"]
        assert chat(url, seen).status_code == 200
        procs.stop(redis_process)
        assert chat(url, seen).status_code == 200, "verified in the last minute: still served"
        assert is_openai_error(chat(url, unseen), 503, "auth_unavailable")
        assert is_openai_error(chat(url, None), 401), "nobody gets in without a key"
        assert is_openai_error(chat(url, "tri-made-up"), 503, "auth_unavailable")
        assert chat(url, MASTER).status_code == 200, "the master key needs no store"


def test_auth_none_is_announced_and_keys_mode_needs_a_master_key(sim_url: str, tmp_path: Path) -> None:
    config = keys_config(sim_url, None)
    path = tmp_path / "keys.yaml"
    path.write_text(yaml.safe_dump(config))
    env = {k: v for k, v in __import__("os").environ.items() if k != "TRIAGE_MASTER_KEY"}
    missing = subprocess.run(
        [sys.executable, "-m", "gateway", "check-config", str(path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert missing.returncode == 2 and "auth.master_key_env" in missing.stderr
    config["auth"] = {"mode": "none"}
    with procs.gateway_process(config, tmp_path, capture=True) as (_url, process):
        procs.stop(process)
    assert process.stderr is not None and "AUTH IS OFF" in process.stderr.read().decode()


def test_cors_is_off_unless_configured(sim_url: str, tmp_path: Path) -> None:
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}
    config = keys_config(sim_url, None)
    with procs.gateway(config, tmp_path, ENV) as url:
        response = httpx.options(f"{url}/v1/chat/completions", headers=preflight)
        assert "access-control-allow-origin" not in response.headers
    config["cors"] = {"allow_origins": ["https://app.example"]}
    with procs.gateway(config, tmp_path, ENV) as url:
        response = httpx.options(f"{url}/v1/chat/completions", headers=preflight)
        assert response.headers["access-control-allow-origin"] == "https://app.example"


def test_size_limits_are_clear_400s(pair: tuple[str, str]) -> None:
    a, _ = pair
    many = [{"role": "user", "content": "x"}] * 3000
    assert is_openai_error(chat(a, MASTER, messages=many), 400)
