"""The request lifecycle in process: the fake transport at the upstream seam, no processes.

Covers what used to need subprocesses: retries, fallbacks, deadlines, client errors,
streams cut or abandoned, and the guarantee that every request is settled and recorded
exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from gateway.app import create_app
from gateway.cache.policy import CacheControl
from gateway.protocol.schemas import ChatCompletionRequest
from gateway.request.auth import Principal
from gateway.request.values import RequestRecord
from gateway.settings import parse_settings
from gateway.upstream.base import Target, UpstreamError
from gateway.upstream.fake import FakeTransport, Reply
from gateway.wiring import Runtime, build_runtime

PRICES = {"cheap": (0.10, 0.40), "frontier": (2.50, 10.00)}
HELLO = [{"role": "user", "content": "hello"}]


def settings(**extra: Any) -> Any:
    tiers = {
        name: {
            "model": f"openai/sim-{name}",
            "api_base": "http://127.0.0.1:9/v1",  # never contacted: the fake transport answers
            "price": {"input_per_mtok": p[0], "output_per_mtok": p[1]},
            "max_retries": 2,
            "timeout_s": 0.5,
        }
        for name, p in PRICES.items()
    }
    raw = {
        "tiers": tiers,
        "profiles": {"auto": {"router": "heuristic"}},
        "budget": {"limit_usd": 10.0},
        "log_requests": False,
        **extra,
    }
    return parse_settings(raw)


def completion(text: str = "hi there", prompt: int = 5, done: int = 3) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": prompt, "completion_tokens": done, "total_tokens": prompt + done},
    }


def chunks(words: list[str], usage: bool = True) -> list[dict[str, Any]]:
    head = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m"}
    out = [{**head, "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in words]
    if usage:
        out.append({**head, "choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": len(words)}})
    return out


class Script:
    """Answers attempts in order from a list (the last answer repeats)."""

    def __init__(self, *replies: Reply | UpstreamError | float) -> None:
        self.replies = list(replies)

    async def __call__(self, target: Target, payload: Mapping[str, Any]) -> Reply:
        reply = self.replies.pop(0) if len(self.replies) > 1 else self.replies[0]
        if isinstance(reply, float):
            await asyncio.sleep(reply)
            return completion()
        if isinstance(reply, UpstreamError):
            raise reply
        return reply


@asynccontextmanager
async def gateway(
    fake: FakeTransport, **extra: Any
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime, list[RequestRecord]]]:
    """The app in process on ``fake``; yields a client, the runtime and every request it recorded."""
    app: FastAPI = create_app(settings(**extra), environ={}, transports={"relay": fake})
    async with app.router.lifespan_context(app):
        runtime: Runtime = app.state.runtime
        recorded: list[RequestRecord] = []
        runtime.listeners.append(recorded.append)
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw") as client:
            yield client, runtime, recorded


def spent(runtime: Runtime) -> float:
    return sum(runtime.pipeline.budgets._local.values())


async def post(client: httpx.AsyncClient, **body: Any) -> httpx.Response:
    return await client.post("/v1/chat/completions", json={"messages": HELLO, **body})


async def test_a_completion_is_settled_to_its_cost_and_recorded_once() -> None:
    fake = FakeTransport(Script(completion(prompt=1000, done=1000)))
    async with gateway(fake) as (client, runtime, recs):
        response = await post(client, model="frontier", max_tokens=5000)
        assert response.status_code == 200
        assert float(response.headers["x-triage-cost-usd"]) == pytest.approx(0.0125)
        assert spent(runtime) == pytest.approx(0.0125)  # the 5,000-token estimate was replaced
        (record,) = recs
        assert record.status == 200 and record.answered.tier == "frontier"


async def test_retries_then_success_on_the_same_tier() -> None:
    fake = FakeTransport(Script(UpstreamError("server", "500"), UpstreamError("server", "503"), completion()))
    async with gateway(fake) as (client, _runtime, recs):
        response = await post(client, model="cheap")
        assert response.status_code == 200 and response.headers["x-triage-tier"] == "cheap"
        (record,) = recs
        assert record.trace.retries == 2 and record.trace.fallbacks == 0


async def test_an_exhausted_tier_falls_back_and_the_reason_says_so() -> None:
    async def handler(target: Target, payload: Mapping[str, Any]) -> Reply:
        if target.name == "cheap":
            raise UpstreamError("server", "cheap is down")
        return completion()

    fake = FakeTransport(handler)
    async with gateway(fake) as (client, _runtime, _recs):
        response = await post(client, model="cheap")
        assert response.status_code == 200
        assert response.headers["x-triage-tier"] == "frontier"
        assert "fell back from cheap to frontier" in response.headers["x-triage-reason"]
        assert [tier for tier, _ in fake.calls] == ["cheap", "cheap", "cheap", "frontier"]


async def test_a_client_error_is_passed_through_without_retry_and_releases_the_budget() -> None:
    body = {"error": {"message": "context too long", "type": "invalid_request_error", "code": "context_length"}}
    fake = FakeTransport(Script(UpstreamError("client", "400", status=400, body=body)))
    async with gateway(fake) as (client, runtime, recs):
        response = await post(client, model="cheap")
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "context_length"
        assert len(fake.calls) == 1
        assert spent(runtime) == 0.0
        assert [r.status for r in recs] == [400]


async def test_the_deadline_bounds_retries_and_answers_504() -> None:
    fake = FakeTransport(Script(5.0))  # every attempt outlives the 0.5 s timeout
    async with gateway(fake, limits={"request_deadline_s": 1.2}) as (client, runtime, recs):
        response = await post(client, model="cheap")
        assert response.status_code == 504
        assert response.json()["error"]["code"] == "upstream_timeout"
        assert spent(runtime) == 0.0
        (record,) = recs
        assert record.trace.attempts <= 3 and record.status == 504


async def test_a_stream_cut_after_its_first_byte_ends_with_an_error_event_and_is_counted() -> None:
    fake = FakeTransport(Script([*chunks(["one", "two"], usage=False), {"error": "reset"}]))
    async with gateway(fake) as (client, runtime, recs):
        response = await post(client, model="cheap", stream=True)
        assert response.status_code == 200
        assert '"code":"stream_interrupted"' in response.text and response.text.endswith("data: [DONE]\n\n")
        (record,) = recs
        assert record.answered.interrupted
        assert record.answered.usage.completion_tokens == 2  # tiktoken's count of what was sent
        assert spent(runtime) == pytest.approx(record.answered.cost)
        assert fake.streams_closed == 1


async def test_a_stream_the_client_never_read_is_closed_settled_and_recorded() -> None:
    """The client went away before the first event: the upstream stream is closed and paid for."""
    fake = FakeTransport(Script(chunks(["a", "b", "c"])))
    runtime = build_runtime(settings(), environ={}, transports={"relay": fake})
    records: list[RequestRecord] = []
    try:
        life = runtime.lifecycle(CacheControl(), None)
        life._recorder = records.append
        chat = ChatCompletionRequest.model_validate({"model": "frontier", "messages": HELLO, "stream": True})
        raw = {"model": "frontier", "messages": HELLO, "stream": True}
        await life.admit(Principal("anon"), chat, raw)
        outcome = await life.stream_response(chat, raw)
        assert outcome.events is not None and spent(runtime) > 0.0  # reserved
        await life.finish(200)
        await life.finish(200)  # a second finish does nothing
        assert len(records) == 1
        assert fake.streams_closed == 1
        answered = records[0].answered
        assert answered is not None and answered.usage is not None and answered.usage.prompt_tokens > 0
        assert spent(runtime) == pytest.approx(answered.cost)
    finally:
        await runtime.aclose()


async def test_finish_survives_the_cancellation_of_its_caller() -> None:
    fake = FakeTransport(Script(chunks(["a"])))
    runtime = build_runtime(settings(), environ={}, transports={"relay": fake})
    records: list[RequestRecord] = []
    try:
        life = runtime.lifecycle(CacheControl(), None)
        life._recorder = records.append
        chat = ChatCompletionRequest.model_validate({"model": "cheap", "messages": HELLO, "stream": True})
        raw = {"model": "cheap", "messages": HELLO, "stream": True}
        await life.admit(Principal("anon"), chat, raw)
        await life.stream_response(chat, raw)
        task = asyncio.ensure_future(life.finish(200))
        await asyncio.sleep(0)
        task.cancel()  # the response was cancelled (client gone): settlement goes on
        with pytest.raises(asyncio.CancelledError):
            await task
        await life.finish(200)
        assert len(records) == 1 and spent(runtime) == pytest.approx(records[0].answered.cost)  # type: ignore[union-attr]
    finally:
        await runtime.aclose()


async def test_the_budget_estimate_counts_every_choice() -> None:
    """``n: 4`` with 1,000 max tokens at $10/Mtok is a $0.04 estimate: over a $0.03 budget."""
    fake = FakeTransport(Script(completion()))
    async with gateway(fake, budget={"limit_usd": 0.03}) as (client, _runtime, recs):
        one = await post(client, model="frontier", max_tokens=1000, n=1)
        assert one.status_code == 200
        four = await post(client, model="frontier", max_tokens=1000, n=4)
        assert four.status_code == 429 and four.json()["error"]["code"] == "budget_exceeded"
        assert [r.status for r in recs] == [200, 429]
        assert len(fake.calls) == 1


@pytest.mark.model
@pytest.mark.parametrize("ood", ["prior", "frontier"])
async def test_an_out_of_distribution_prompt_is_flagged_and_routed_as_the_profile_says(ood: str) -> None:
    fake = FakeTransport(Script(completion()))
    profiles = {"auto": {"router": "ensemble", "ood": ood}}
    async with gateway(fake, profiles=profiles) as (client, _runtime, recs):
        mash = await post(client, model="auto", messages=[{"role": "user", "content": "xqzj vbnm kplr wtyx hjkq zzvv"}])
        assert mash.status_code == 200 and mash.headers["x-triage-reason"].endswith("; ood")
        assert float(mash.headers["x-triage-score"]) < 0.5  # the header keeps the router's own score
        assert mash.headers["x-triage-tier"] == ("frontier" if ood == "frontier" else "cheap")
        plain = await post(
            client, model="auto", messages=[{"role": "user", "content": "What is the capital of France?"}]
        )
        assert "ood" not in plain.headers["x-triage-reason"] and plain.headers["x-triage-tier"] == "cheap"
        metrics = (await client.get("/metrics")).text
        assert 'triage_router_ood_total{profile="auto",router="ensemble"} 1.0' in metrics
        assert [r.score.ood for r in recs if r.score is not None] == [True, False]
