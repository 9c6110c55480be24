"""The soak's open-loop client: every key at its own steady rate, through HAProxy only.

Request ``j`` of a key is due at ``t0 + (j + offset) / rate`` whatever earlier requests did
(open loop), so a stall shows as queueing and errors instead of slowing the client. Each
request records what a client can see: when it was due (wall clock, which is also the
gateways' rate-limit and budget clock), when it finished, the status, the error's shape
and code, which replica answered (HAProxy's ``X-Backend``), the tier, tokens and cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import aiohttp

PROMPTS = (
    "What is the capital of France?",
    "Summarise the plot of Hamlet in two sentences.",
    "Prove that the square root of two is irrational.",
    "Write a haiku about load balancers.",
    "Explain how a Redis Cluster fails over when a primary dies, step by step.",
    "Translate 'good morning' into Spanish.",
)
MAX_TOKENS = 32


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One API key of the soak: its limits, the model it names, its offered rate and stream share."""

    name: str
    rate: float
    model: str = "auto"
    stream_every: int = 3  # every n-th request of the key streams
    rpm: int | None = None
    tpm: int | None = None
    budget_usd: float | None = None

    def admin_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"name": self.name}
        body.update({k: v for k, v in (("rpm", self.rpm), ("tpm", self.tpm), ("budget_usd", self.budget_usd)) if v})
        return body


@dataclass(slots=True)
class Record:
    """What one request saw. ``status`` 0: no HTTP answer (a connection error or a timeout)."""

    rid: str  # sent as x-request-id: the gateway keeps it, HAProxy logs it
    key: str
    stream: bool
    due: float
    done: float = math.nan
    status: int = 0
    outcome: str = "connection_error"
    code: str = ""
    backend: str = ""
    from_gateway: bool = False  # the answer carries the gateway's request id (not one of HAProxy's own)
    tier: str = ""
    tokens: int = 0
    cost_usd: float = 0.0

    @property
    def latency_ms(self) -> float:
        return (self.done - self.due) * 1000


@dataclass
class Plan:
    """When each request is due: ``(due, key index, j)`` for every key's open-loop clock, merged."""

    keys: Sequence[KeySpec]
    seconds: float
    start: float = field(default_factory=time.time)

    def schedule(self) -> list[tuple[float, int, int]]:
        due: list[tuple[float, int, int]] = []
        for index, spec in enumerate(self.keys):
            offset = (index + 1) / (len(self.keys) + 1)  # keys' clocks out of phase
            count = int(self.seconds * spec.rate)
            due += [(self.start + (j + offset) / spec.rate, index, j) for j in range(count)]
        return sorted(due)


def shaped(body: Any) -> dict[str, Any] | None:
    """The ``error`` object of an OpenAI-shaped error body, else None."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and {"message", "type", "param", "code"} <= set(error):
        return error
    return None


def classify(status: int, error: dict[str, Any] | None) -> str:
    """``ok``, ``refused`` (an OpenAI-shaped 4xx), ``upstream_error`` (502/504 of the gateway),
    ``gateway_5xx`` (any other OpenAI-shaped 5xx) or ``lb_error`` (a 5xx that is not OpenAI-shaped)."""
    if status < 300:
        return "ok"
    if error is None:
        return "lb_error" if status >= 500 else "unshaped_4xx"
    if status < 500:
        return "refused"
    return "upstream_error" if error.get("code") in ("upstream_error", "upstream_timeout") else "gateway_5xx"


class Client:
    """Sends the plan's requests through ``url`` (HAProxy) and keeps one ``Record`` each."""

    def __init__(self, url: str, keys: Sequence[KeySpec], secrets: dict[str, str], prices: dict[str, Any]) -> None:
        self.url = url.rstrip("/") + "/v1/chat/completions"
        self.keys, self.secrets, self.prices = keys, secrets, prices
        self.records: list[Record] = []

    async def run(self, plan: Plan, timeout_s: float = 60.0) -> list[Record]:
        connector = aiohttp.TCPConnector(limit=0, force_close=False)
        timeout = aiohttp.ClientTimeout(total=timeout_s)
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
            tasks: set[asyncio.Task[None]] = set()
            for due, index, j in plan.schedule():
                delay = due - time.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                spec = self.keys[index]
                record = Record(f"soak-{len(self.records):07d}", spec.name, j % spec.stream_every == 0, due)
                self.records.append(record)
                task = asyncio.create_task(self._one(session, spec, j, record))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.wait(tasks, timeout=timeout_s + 5)
        return self.records

    def _body(self, spec: KeySpec, j: int, stream: bool) -> dict[str, Any]:
        body: dict[str, Any] = {
            "model": spec.model,
            "messages": [{"role": "user", "content": f"{PROMPTS[j % len(PROMPTS)]} (#{j})"}],
            "max_tokens": MAX_TOKENS,
        }
        if stream:
            body.update(stream=True, stream_options={"include_usage": True})
        return body

    async def _one(self, session: aiohttp.ClientSession, spec: KeySpec, j: int, record: Record) -> None:
        headers = {"Authorization": f"Bearer {self.secrets[spec.name]}", "X-Request-Id": record.rid}
        try:
            async with session.post(self.url, json=self._body(spec, j, record.stream), headers=headers) as response:
                record.status = response.status
                record.backend = response.headers.get("x-backend", "")
                record.from_gateway = "x-triage-request-id" in response.headers
                record.tier = response.headers.get("x-triage-tier", "")
                if response.status == 200 and record.stream:
                    await self._read_stream(response, record)
                else:
                    await self._read_json(response, record)
        except (aiohttp.ClientError, TimeoutError) as exc:
            record.outcome = "timeout" if isinstance(exc, TimeoutError) else record.outcome
            if record.status:  # the head arrived, the body did not: a cut answer
                record.outcome = "cut"
        record.done = time.time()

    async def _read_json(self, response: aiohttp.ClientResponse, record: Record) -> None:
        raw = await response.read()
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        error = shaped(body)
        record.outcome = classify(response.status, error)
        record.code = str(error.get("code") or error.get("type")) if error else ""
        if response.status == 200 and isinstance(body, dict):
            record.tokens = int(body.get("usage", {}).get("total_tokens", 0))
            record.cost_usd = float(response.headers.get("x-triage-cost-usd", "0") or 0)

    async def _read_stream(self, response: aiohttp.ClientResponse, record: Record) -> None:
        finished, usage = False, None
        async for line in response.content:
            text = line.decode().strip()
            if not text.startswith("data: "):
                continue
            data = text.removeprefix("data: ")
            if data == "[DONE]":
                finished = True
                continue
            with contextlib.suppress(ValueError):
                event = json.loads(data)
                error = shaped(event)
                if error is not None:
                    record.outcome, record.code = "stream_error", str(error.get("code"))
                elif event.get("usage"):
                    usage = event["usage"]
        if record.outcome == "stream_error":
            return
        record.outcome = "ok" if finished else "cut"
        if usage is not None:
            record.tokens = int(usage.get("total_tokens", 0))
            record.cost_usd = self._price(record.tier, usage)

    def _price(self, tier: str, usage: dict[str, Any]) -> float:
        price = self.prices.get(tier)
        if price is None:
            return 0.0
        prompt, completion = int(usage.get("prompt_tokens", 0)), int(usage.get("completion_tokens", 0))
        return float(prompt * price["input_per_mtok"] + completion * price["output_per_mtok"]) / 1e6
