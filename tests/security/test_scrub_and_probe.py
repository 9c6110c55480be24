"""Issue 12.10 (secrets scrubbed from every error field) and 12.12 (one half-open probe), in process."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import httpx

from gateway.app import create_app
from gateway.settings import parse_settings
from gateway.upstream.base import Target, UpstreamError
from gateway.upstream.fake import FakeTransport, Reply
from tests.gateway.request.test_lifecycle import completion
from tests.security.conftest import PROVIDER_KEY

MASTER = "master-key-for-tests-0123456789"


def config(**extra: Any) -> Any:
    tiers = {
        name: {
            "model": f"openai/sim-{name}",
            "api_base": "http://127.0.0.1:9/v1",
            "api_key_env": "PROVIDER_KEY",
            "price": {"input_per_mtok": 1.0, "output_per_mtok": 1.0},
            "max_retries": 0,
        }
        for name in ("cheap", "frontier")
    }
    return parse_settings(
        {"tiers": tiers, "profiles": {"auto": {"router": "heuristic"}}, "log_requests": False, **extra}
    )


async def test_upstream_error_type_code_and_message_are_scrubbed_of_every_secret() -> None:
    leaky = {"error": {"message": f"bad key {PROVIDER_KEY}", "type": f"auth:{PROVIDER_KEY}", "code": f"m{MASTER}"}}

    async def handler(target: Target, payload: Mapping[str, Any]) -> Reply:
        raise UpstreamError("client", f"upstream returned 401: {PROVIDER_KEY} {MASTER}", status=401, body=leaky)

    settings = config(auth={"mode": "keys", "master_key_env": "TRIAGE_MASTER_KEY"})
    environ = {"PROVIDER_KEY": PROVIDER_KEY, "TRIAGE_MASTER_KEY": MASTER}
    app = create_app(settings, environ=environ, transports={"relay": FakeTransport(handler)})
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    async with app.router.lifespan_context(app), client:
        response = await client.post(
            "/v1/chat/completions",
            headers={"Authorization": f"Bearer {MASTER}"},
            json={"model": "cheap", "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 401
    assert PROVIDER_KEY not in response.text and MASTER not in response.text
    assert "***" in response.json()["error"]["type"] and "***" in response.json()["error"]["code"]


async def test_a_half_open_tier_gets_one_probe_while_the_others_go_elsewhere() -> None:
    cheap_up = asyncio.Event()

    async def handler(target: Target, payload: Mapping[str, Any]) -> Reply:
        if target.name == "cheap":
            if not cheap_up.is_set():
                raise UpstreamError("server", "cheap is down")
            await asyncio.sleep(0.2)  # the probe takes a while: the others arrive meanwhile
        return completion()

    fake = FakeTransport(handler)
    settings = config(breaker={"failure_threshold": 1, "cooldown_s": 0.3})
    app = create_app(settings, environ={"PROVIDER_KEY": PROVIDER_KEY}, transports={"relay": fake})
    body = {"model": "cheap", "messages": [{"role": "user", "content": "hi"}]}
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    async with app.router.lifespan_context(app), client:
        first = await client.post("/v1/chat/completions", json=body)
        assert first.headers["x-triage-tier"] == "frontier"  # cheap failed and opened; fell back
        await asyncio.sleep(0.35)  # past the cool-down: half-open
        cheap_up.set()
        fake.calls.clear()
        responses = await asyncio.gather(*(client.post("/v1/chat/completions", json=body) for _ in range(5)))
    tiers = sorted(r.headers["x-triage-tier"] for r in responses)
    assert tiers == ["cheap", "frontier", "frontier", "frontier", "frontier"]
    assert [tier for tier, _ in fake.calls].count("cheap") == 1
