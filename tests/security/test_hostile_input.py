"""Issue 12.3: no client input gets a 5xx, and no request can hold a budget reservation.

The findings: a body nested 255-1,024 levels deep inside an unknown field, and
``tool_calls[].function`` given as a string, answered 500 without releasing the budget
reservation or recording the request; 101 of them locked a $100 global budget.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import redis

from gateway.app import create_app
from gateway.local import processes as procs
from gateway.settings import parse_settings
from tests.conftest import tier

LIMIT = 100.0
HUGE = 100_000  # max_tokens: a $1 estimate per request at frontier prices


NESTED = "__NESTED__"


def nested(depth: int) -> str:
    """JSON text nested ``depth`` levels (no encoder would write it: they stop at ~255 levels)."""
    opens = "".join('{"k":' if index % 2 else "[" for index in range(depth))
    closes = "".join("}" if index % 2 else "]" for index in reversed(range(depth)))
    return opens + '"x"' + closes


def encode(body: dict[str, Any], depth: int = 0) -> bytes:
    return json.dumps(body).replace(json.dumps(NESTED), nested(depth)).encode()


def hostile_bodies() -> list[tuple[bytes, str]]:
    """(body, the field its 400 must name)."""
    user = {"role": "user", "content": "hi"}
    as_string = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": "c1", "type": "function", "function": "f"}],
    }
    no_args = {"role": "assistant", "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f"}}]}
    not_object = {"role": "assistant", "tool_calls": ["call"]}
    base = {"model": "frontier", "max_tokens": HUGE}
    return [
        (encode({**base, "messages": [user], "unknown": NESTED}, 300), "unknown"),
        (encode({**base, "messages": [user], "unknown": NESTED}, 1000), "unknown"),
        (encode({**base, "messages": [user], "response_format": NESTED}, 200), "response_format"),
        (encode({**base, "messages": [{"role": "user", "content": [NESTED]}]}, 100), "messages"),
        (encode({**base, "messages": [user, as_string, user]}), "messages.1.tool_calls.0.function"),
        (encode({**base, "messages": [user, no_args, user]}), "messages.1.tool_calls.0.function.arguments"),
        (encode({**base, "messages": [user, not_object, user]}), "messages.1.tool_calls.0"),
    ]


@pytest.fixture(scope="module")
def budgeted(sim_url: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    redis.Redis.from_url(redis_url).flushdb()
    config = {
        "tiers": {
            "cheap": tier(sim_url, "sim-cheap", "relay"),
            "frontier": tier(sim_url, "sim-frontier", "relay", context_window=200_000),
        },
        "profiles": {"auto": {"router": "heuristic"}},
        "redis": {"url": redis_url},
        "budget": {"limit_usd": LIMIT, "window": "day"},
        "limits": {"max_body_bytes": 1_000_000},
    }
    with procs.gateway(config, tmp_path_factory.mktemp("hostile")) as url:
        yield url


def _requests_total(url: str, status_class: str) -> float:
    text = httpx.get(f"{url}/metrics").text
    pattern = rf'^triage_requests_total\{{[^}}]*status_class="{status_class}"[^}}]*\}} (\S+)$'
    return sum(float(value) for value in re.findall(pattern, text, flags=re.M))


def test_hostile_bodies_get_a_400_naming_the_field_and_reserve_nothing(budgeted: str, redis_url: str) -> None:
    before = _requests_total(budgeted, "4xx")
    sent = 0
    for _ in range(15):  # 105 requests: more than enough to lock the budget before the fix
        for body, field in hostile_bodies():
            response = httpx.post(
                f"{budgeted}/v1/chat/completions",
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=30,
            )
            sent += 1
            assert response.status_code == 400, response.text
            error = response.json()["error"]
            assert error["type"] == "invalid_request_error"
            assert error["param"] == field, error
    assert _requests_total(budgeted, "4xx") - before == sent  # every request recorded
    assert _requests_total(budgeted, "5xx") == 0
    spent = sum(
        float(redis.Redis.from_url(redis_url).get(k) or 0)
        for k in redis.Redis.from_url(redis_url).keys("triage:budget:global:*")
    )
    assert spent == pytest.approx(0.0, abs=1e-9)
    ok = httpx.post(
        f"{budgeted}/v1/chat/completions",
        json={"model": "frontier", "messages": [{"role": "user", "content": "hi"}], "max_tokens": HUGE},
        timeout=30,
    )
    assert ok.status_code == 200, ok.text  # other tenants are still served


async def test_an_unexpected_error_releases_the_reservation_and_is_recorded(sim_url: str) -> None:
    """A defect (here: the cache store raising) answers 500 but leaves nothing reserved."""
    settings = parse_settings(
        {
            "tiers": {
                "cheap": tier(sim_url, "sim-cheap", "relay"),
                "frontier": tier(sim_url, "sim-frontier", "relay", context_window=200_000),
            },
            "profiles": {"auto": {"router": "heuristic"}},
            "budget": {"limit_usd": LIMIT},
            "log_requests": False,
        }
    )
    app = create_app(settings, environ={})
    async with app.router.lifespan_context(app):
        runtime = app.state.runtime

        async def broken_save(*args: Any, **kwargs: Any) -> None:
            raise RuntimeError("defect in the cache store")

        runtime.pipeline.cache.save = broken_save
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://gateway") as client:
            body = {"model": "frontier", "messages": [{"role": "user", "content": "hi"}], "max_tokens": HUGE}
            response = await client.post("/v1/chat/completions", json=body)
            assert response.status_code == 500
            assert response.json()["error"]["code"] == "internal_error"
            assert response.headers["x-triage-request-id"].startswith("req_")
            # the $1 estimate was settled to the call's actual cost (a few hundred tokens at most)
            spent = sum(runtime.pipeline.budgets._local.values())
            assert 0 < spent < 0.01
            metrics = (await client.get("/metrics")).text
            assert re.search(r'triage_requests_total\{[^}]*status_class="5xx"[^}]*\} 1\.0', metrics)
