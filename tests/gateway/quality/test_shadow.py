"""The quality loop in process: shadow jobs, the judge's two orders, shedding, the spend cap,
feedback across tenants, and the outcome store's switches and retention."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import orjson
from fastapi import FastAPI

from gateway.app import create_app
from gateway.quality.store import FileOutcomeStore
from gateway.settings import OutcomeStoreSettings, parse_settings
from gateway.upstream.base import Target
from gateway.upstream.fake import FakeTransport, Reply
from gateway.wiring import Runtime
from tests.gateway.request.test_lifecycle import completion

MASTER = "master-key-for-tests-0123456789"
HARD = "Prove that the square root of two is irrational, step by step, with a rigorous argument."


def config(store: Path, shadow: dict[str, Any] | None = None, **extra: Any) -> Any:
    tiers = {
        name: {
            "model": f"openai/sim-{name}",
            "api_base": "http://127.0.0.1:9/v1",
            "price": {"input_per_mtok": 1.0, "output_per_mtok": 2.0},
        }
        for name in ("cheap", "frontier", "judge")
    }
    quality = {
        "shadow": {"rate": 1.0, "judge_tier": "judge", **(shadow or {})},
        "store": {"path": str(store), "prompts": True, "answers": True},
    }
    return parse_settings(
        {
            "tiers": tiers,
            "profiles": {"auto": {"router": "heuristic"}},
            "quality": quality,
            "log_requests": False,
            **extra,
        }
    )


def judge_prefers(winner: str, position_bias: bool = False) -> Any:
    """A fake upstream: answers name their tier; the judge prefers ``winner``'s answer (or always A)."""

    async def handler(target: Target, payload: Mapping[str, Any]) -> Reply:
        if target.name != "judge":
            await asyncio.sleep(0.001)
            return completion(text=f"the {target.name} answer")
        prompt = payload["messages"][-1]["content"]
        if position_bias:
            return completion(text="A is better. [[A]]")
        a = prompt.split("[The Start of Assistant A's Answer]\n", 1)[1].split("\n", 1)[0]
        return completion(text="[[A]]" if winner in a else "[[B]]")

    return handler


@asynccontextmanager
async def gateway(
    settings: Any, handler: Any, environ: dict[str, str] | None = None
) -> AsyncIterator[tuple[httpx.AsyncClient, Runtime]]:
    app: FastAPI = create_app(settings, environ=environ or {}, transports={"relay": FakeTransport(handler)})
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://gw")
    async with app.router.lifespan_context(app), client:
        yield client, app.state.runtime


async def drain(runtime: Runtime) -> None:
    assert runtime.quality is not None
    await asyncio.sleep(0.01)
    await asyncio.wait_for(runtime.quality.evaluator.queue.join(), 10)


def rows(folder: Path) -> list[dict[str, Any]]:
    return list(FileOutcomeStore(OutcomeStoreSettings(path=str(folder), prompts=True)).rows())


def metric(text: str, name: str, **labels: str) -> float:
    total = 0.0
    for line in text.splitlines():
        if line.startswith(name + "{") and all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


async def ask(client: httpx.AsyncClient, content: str, **extra: Any) -> httpx.Response:
    body = {"model": "auto", "messages": [{"role": "user", "content": content}], **extra}
    return await client.post("/v1/chat/completions", json=body)


async def test_every_routed_request_is_shadowed_judged_and_stored(tmp_path: Path) -> None:
    async with gateway(config(tmp_path), judge_prefers("frontier")) as (client, runtime):
        for i in range(6):
            assert (await ask(client, "hi" if i % 2 else HARD + str(i))).status_code == 200
        assert (await ask(client, "hi", model="cheap")).status_code == 200  # pinned: not routed, not shadowed
        await drain(runtime)
        text = (await client.get("/metrics")).text
    found = rows(tmp_path)
    assert len(found) == 6
    assert metric(text, "triage_shadow_requests_total", result="judged") == 6
    for row in found:
        assert row["kind"] == "shadow" and row["prompt"] and set(row["answers"]) == {"cheap", "frontier"}
        assert (row["strong_score"], row["weak_score"]) == (1.0, 0.0)  # the judge preferred the frontier
        expected = "other_better" if row["routed_tier"] == "cheap" else "routed_better"
        assert row["verdict"] == expected and row["consistent"]
    cheap_routed = sum(r["routed_tier"] == "cheap" for r in found)
    retained = metric(text, "triage_quality_retained_ratio", profile="auto")
    assert retained == (6 - cheap_routed) / 6
    assert metric(text, "triage_shadow_cost_usd_total", profile="auto") > 0


async def test_judging_both_orders_cancels_position_bias(tmp_path: Path) -> None:
    async with gateway(config(tmp_path), judge_prefers("frontier", position_bias=True)) as (client, runtime):
        for _ in range(4):
            await ask(client, HARD)
        await drain(runtime)
    found = rows(tmp_path)
    assert len(found) == 4
    assert all(r["verdict"] == "tie" and not r["consistent"] for r in found)
    assert all((r["strong_score"], r["weak_score"]) == (0.5, 0.5) for r in found)


async def test_a_full_queue_sheds_and_the_spend_cap_holds(tmp_path: Path) -> None:
    async def slow(target: Target, payload: Mapping[str, Any]) -> Reply:
        if target.name == "judge":
            await asyncio.sleep(0.2)
            return completion(text="[[C]]")
        return completion()

    settings = config(tmp_path / "a", {"queue_size": 1, "concurrency": 1})
    async with gateway(settings, slow) as (client, runtime):
        await asyncio.gather(*(ask(client, f"q{i}") for i in range(10)))
        await drain(runtime)
        text = (await client.get("/metrics")).text
    assert metric(text, "triage_shadow_requests_total", result="shed") >= 5
    judged = metric(text, "triage_shadow_requests_total", result="judged")
    assert judged + metric(text, "triage_shadow_requests_total", result="shed") == 10

    capped = config(tmp_path / "b", {"budget_usd": 0.000001})
    async with gateway(capped, slow) as (client, runtime):
        await ask(client, "q")
        await drain(runtime)
        text = (await client.get("/metrics")).text
    assert metric(text, "triage_shadow_requests_total", result="over_budget") == 1
    assert rows(tmp_path / "b") == []


async def test_requests_that_are_not_safely_repeatable_are_skipped(tmp_path: Path) -> None:
    async with gateway(config(tmp_path), judge_prefers("frontier")) as (client, runtime):
        assert (await ask(client, "q", n=2)).status_code == 200
        await drain(runtime)
        text = (await client.get("/metrics")).text
    assert metric(text, "triage_shadow_requests_total", result="skipped") == 1 and rows(tmp_path) == []


async def test_feedback_only_from_the_tenant_that_asked(tmp_path: Path) -> None:
    settings = config(tmp_path, {"rate": 0.0}, auth={"mode": "keys", "master_key_env": "M"})
    async with gateway(settings, judge_prefers("frontier"), {"M": MASTER}) as (client, _runtime):
        admin = {"Authorization": f"Bearer {MASTER}"}
        keys = []
        for spec in ({"name": "a"}, {"name": "b"}, {"name": "quiet", "outcomes_opt_out": True}):
            keys.append((await client.post("/admin/keys", headers=admin, json=spec)).json()["key"])
        a, b, quiet = ({"Authorization": f"Bearer {k}"} for k in keys)
        body = {"model": "auto", "messages": [{"role": "user", "content": "hi"}]}
        asked = await client.post("/v1/chat/completions", headers=a, json=body)
        request_id = asked.headers["x-triage-request-id"]
        other = await client.post("/v1/feedback", headers=b, json={"request_id": request_id, "thumbs": "up"})
        assert other.status_code == 404 and other.json()["error"]["code"] == "request_not_found"
        unknown = await client.post("/v1/feedback", headers=a, json={"request_id": "req_nope", "score": 1})
        assert unknown.status_code == 404
        bad = await client.post("/v1/feedback", headers=a, json={"request_id": request_id, "score": 2})
        assert bad.status_code == 400 and bad.json()["error"]["param"] == "score"
        ok = await client.post("/v1/feedback", headers=a, json={"request_id": request_id, "thumbs": "down"})
        assert ok.status_code == 200 and ok.json()["stored"] is True
        anonymous = await client.post("/v1/feedback", json={"request_id": request_id, "score": 1})
        assert anonymous.status_code == 401
        quiet_id = (await client.post("/v1/chat/completions", headers=quiet, json=body)).headers["x-triage-request-id"]
        stored = await client.post("/v1/feedback", headers=quiet, json={"request_id": quiet_id, "score": 0.5})
        assert stored.status_code == 200 and stored.json()["stored"] is False
    found = rows(tmp_path)
    assert [(r["kind"], r["score"], r["request_id"]) for r in found] == [("feedback", 0.0, request_id)]


async def test_the_store_honours_its_switches_and_retention(tmp_path: Path) -> None:
    settings = config(tmp_path / "s")
    quiet = settings.model_copy(
        update={
            "quality": settings.quality.model_copy(  # type: ignore[union-attr]
                update={"store": OutcomeStoreSettings(path=str(tmp_path / "s"), prompts=False, answers=False)}
            )
        }
    )
    async with gateway(quiet, judge_prefers("cheap")) as (client, runtime):
        await ask(client, "a secret prompt")
        await drain(runtime)
    (row,) = rows(tmp_path / "s")
    assert "prompt" not in row and "answers" not in row and "messages" not in row
    assert (
        "a secret prompt"
        not in (tmp_path / "s").joinpath(next(iter(p.name for p in (tmp_path / "s").iterdir()))).read_text()
    )
    store = FileOutcomeStore(OutcomeStoreSettings(path=str(tmp_path / "r"), prompts=True, ttl_days=2))
    old, now = time.time() - 5 * 86400, time.time()
    assert await store.add({"kind": "feedback", "ts": old, "score": 1})
    assert (tmp_path / "r").joinpath(time.strftime("outcomes-%Y-%m-%d.jsonl", time.gmtime(old))).exists()
    assert await store.add({"kind": "feedback", "ts": now, "score": 0})
    assert [r["score"] for r in store.rows()] == [0]  # the old day's file is gone
    assert len(list((tmp_path / "r").iterdir())) == 1
    assert (
        orjson.loads(
            (tmp_path / "r").joinpath(time.strftime("outcomes-%Y-%m-%d.jsonl", time.gmtime(now))).read_bytes()
        )["score"]
        == 0
    )
