"""The ``/ui`` status page in process: routes, auth, headers, and ``/ui/data`` against known traffic.

The fake transport answers every upstream call with the same usage (5 input and 3 output
tokens), so spend, the all-frontier counterfactual and the route mix are exact numbers.
The real browser drives the page in ``tests/e2e/test_ui.py``.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry, Histogram

from gateway.app import create_app
from gateway.observe.status import collect, histogram, quantile
from gateway.settings import ConfigError, parse_settings
from gateway.upstream.base import Target, UpstreamError
from gateway.upstream.fake import FakeTransport, Reply
from tests.gateway.request.test_lifecycle import completion

MASTER = "ui-master-key-0123456789abcdef"
PRICES = {"cheap": (0.10, 0.40), "frontier": (2.50, 10.00)}
HELLO = [{"role": "user", "content": "hello"}]


def config(ui: Mapping[str, Any] | None = None, **extra: Any) -> Any:
    tiers = {
        name: {
            "model": f"openai/sim-{name}",
            "api_base": "http://127.0.0.1:9/v1",  # never contacted: the fake transport answers
            "price": {"input_per_mtok": p[0], "output_per_mtok": p[1]},
            "max_retries": 0,
        }
        for name, p in PRICES.items()
    }
    raw = {"tiers": tiers, "profiles": {"auto": {"router": "heuristic"}}, "log_requests": False, **extra}
    if ui is not None:
        raw["ui"] = ui
    return parse_settings(raw)


KEYS = {"auth": {"mode": "keys", "master_key_env": "TRIAGE_MASTER_KEY"}}


async def answer(target: Target, payload: Mapping[str, Any]) -> Reply:
    return completion(prompt=5, done=3)


@asynccontextmanager
async def served(settings: Any, fake: FakeTransport | None = None) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(
        settings, environ={"TRIAGE_MASTER_KEY": MASTER}, transports={"relay": fake or FakeTransport(answer)}
    )
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    async with app.router.lifespan_context(app), client:
        yield client


def master() -> dict[str, str]:
    return {"Authorization": f"Bearer {MASTER}"}


async def chat(client: httpx.AsyncClient, model: str) -> httpx.Response:
    response = await client.post("/v1/chat/completions", headers=master(), json={"model": model, "messages": HELLO})
    assert response.status_code == 200, response.text
    return response


def cost(tier: str, prompt: int = 5, done: int = 3) -> float:
    price_in, price_out = PRICES[tier]
    return (prompt * price_in + done * price_out) / 1e6


@pytest.mark.parametrize("path", ["/ui", "/ui/data", "/ui/ui.js"])
async def test_off_by_default_every_ui_route_is_an_openai_shaped_404(path: str) -> None:
    async with served(config(**KEYS)) as client:
        response = await client.get(path, headers=master())
    assert response.status_code == 404
    assert response.json() == {
        "error": {"message": "Not Found", "type": "invalid_request_error", "param": None, "code": "not_found"}
    }


async def test_the_page_is_static_with_a_strict_csp_and_no_inline_script() -> None:
    async with served(config(ui={"enabled": True}, **KEYS)) as client:
        page = await client.get("/ui")  # no key: the page holds no data
        script = await client.get("/ui/ui.js")
        style = await client.get("/ui/ui.css")
    assert page.status_code == script.status_code == style.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert script.headers["content-type"].startswith("text/javascript")
    assert style.headers["content-type"].startswith("text/css")
    csp = page.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert page.headers["x-content-type-options"] == "nosniff" and page.headers["cache-control"] == "no-store"
    html = page.text
    assert all('src="' in tag for tag in re.findall(r"<script[^>]*>", html))  # every script is a file
    assert not re.search(r"\son[a-z]+=|style=|https?://", html)  # no handlers, inline styles or remote resources
    assert "innerHTML" not in script.text and "eval(" not in script.text
    assert "sessionStorage" in script.text and "Authorization" in script.text


@pytest.mark.parametrize(
    ("authorization", "status"),
    [(None, 401), ("Bearer not-the-master-key-at-all", 401), ("Basic abc", 401), ("created-key", 403)],
)
async def test_data_needs_the_master_key_like_admin(authorization: str | None, status: int) -> None:
    async with served(config(ui={"enabled": True}, **KEYS)) as client:
        if authorization == "created-key":
            created = await client.post("/admin/keys", headers=master(), json={"name": "app"})
            authorization = f"Bearer {created.json()['key']}"
        headers = {"Authorization": authorization} if authorization else {}
        response = await client.get("/ui/data", headers=headers)
    assert response.status_code == status
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}


async def test_without_auth_the_data_is_as_open_as_metrics() -> None:
    async with served(config(ui={"enabled": True, "refresh_s": 2})) as client:
        response = await client.get("/ui/data")
    assert response.status_code == 200
    assert response.json()["refresh_s"] == 2.0 and response.headers["cache-control"] == "no-store"


async def test_data_reports_route_mix_spend_latency_breakers_from_the_metrics() -> None:
    async with served(config(ui={"enabled": True}, **KEYS)) as client:
        empty = (await client.get("/ui/data", headers=master())).json()
        for model in ("cheap", "cheap", "cheap", "frontier", "frontier"):
            await chat(client, model)
        data = (await client.get("/ui/data", headers=master())).json()
    assert empty["requests"]["total"] == 0 and empty["latency"]["request"]["p50_s"] is None
    assert empty["spend"]["saved_share"] is None
    assert data["object"] == "triage.status" and data["refresh_s"] == 5.0 and data["uptime_s"] > 0
    assert data["requests"]["total"] == 5 and data["requests"]["by_status"] == {"2xx": 5}
    assert data["route_mix"]["tiers"] == [
        {"tier": "cheap", "requests": 3, "share": pytest.approx(0.6)},
        {"tier": "frontier", "requests": 2, "share": pytest.approx(0.4)},
    ]
    profiles = {row["profile"]: row for row in data["route_mix"]["profiles"]}
    assert profiles["cheap"]["tiers"] == {"cheap": 3} and profiles["frontier"]["tiers"] == {"frontier": 2}
    spend = data["spend"]
    assert spend["spent_usd"] == pytest.approx(3 * cost("cheap") + 2 * cost("frontier"))
    assert spend["frontier_usd"] == pytest.approx(5 * cost("frontier"))  # the all-frontier counterfactual
    assert spend["saved_usd"] == pytest.approx(3 * (cost("frontier") - cost("cheap")))
    assert spend["saved_share"] == pytest.approx(spend["saved_usd"] / spend["frontier_usd"])
    request = data["latency"]["request"]
    assert request["count"] == 5 and 0 < request["p50_s"] <= request["p95_s"] <= request["p99_s"]
    assert data["latency"]["overhead"]["count"] == 5
    assert data["breakers"] == [{"tier": "cheap", "state": "closed"}, {"tier": "frontier", "state": "closed"}]


async def test_an_open_breaker_and_failed_requests_show() -> None:
    async def frontier_down(target: Target, payload: Mapping[str, Any]) -> Reply:
        if target.name == "frontier":
            raise UpstreamError("server", "frontier is down")
        return completion()

    settings = config(ui={"enabled": True}, breaker={"failure_threshold": 1, "cooldown_s": 60}, **KEYS)
    async with served(settings, FakeTransport(frontier_down)) as client:
        fell_back = await chat(client, "frontier")  # frontier fails, opens, and cheap answers
        data = (await client.get("/ui/data", headers=master())).json()
    assert fell_back.headers["x-triage-tier"] == "cheap"
    assert {"tier": "frontier", "state": "open"} in data["breakers"]
    assert data["route_mix"]["profiles"] == [{"profile": "frontier", "requests": 1, "tiers": {"cheap": 1}}]


def test_refresh_below_a_second_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"ui\.refresh_s"):
        config(ui={"enabled": True, "refresh_s": 0.5})
    with pytest.raises(ConfigError, match=r"ui\.colour"):
        config(ui={"colour": "blue"})


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        (0.5, 0.14),  # rank 5 of 10: 2 of the 5 in the (0.1, 0.2] bucket past its 3 below
        (0.25, 0.1 * 2.5 / 3),  # rank 2.5 of the 3 in (0, 0.1]
        (0.95, 0.5),  # rank 9.5 falls in +Inf: the highest finite bound
        (1.0, 0.5),
    ],
)
def test_quantile_interpolates_like_histogram_quantile(q: float, expected: float) -> None:
    buckets = [(0.1, 3.0), (0.2, 8.0), (0.5, 9.0), (float("inf"), 10.0)]
    assert quantile(q, buckets) == pytest.approx(expected)


def test_quantile_of_an_empty_histogram_is_none_and_labels_are_summed() -> None:
    assert quantile(0.5, []) is None and quantile(0.5, [(1.0, 0.0), (float("inf"), 0.0)]) is None
    registry = CollectorRegistry()
    hist = Histogram("x_seconds", "x", ["profile"], buckets=(1, 2), registry=registry)
    for profile, value in (("a", 0.5), ("b", 1.5), ("b", 1.5), ("a", 5.0)):
        hist.labels(profile).observe(value)
    summary = histogram(collect(registry), "x_seconds")
    assert summary["count"] == 4 and summary["mean_s"] == pytest.approx(2.125)
    assert summary["p50_s"] == pytest.approx(1.5) and summary["p99_s"] == 2.0
