"""Shadow evaluation: off the request path, re-ask the profile's other tier and judge the pair.

A finished, routed, repeatable request is offered here (sampled at the profile's rate)
after the client has its answer. A bounded queue feeds a fixed number of workers; a full
queue sheds the job (counted). Each job reserves its estimated cost against a daily
spend cap (``quality.shadow.budget_usd``; over it: counted, not run), calls the other
tier once (no retries), asks the judge twice (both orders), settles the actual cost,
updates the metrics and writes one outcome row. Nothing here can touch the client's
response: it runs in its own tasks, after the request was recorded.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.quality.judge import Judgement, combine, judge_messages, parse_verdict, scores
from gateway.quality.metrics import QualityMetrics
from gateway.quality.store import OutcomeStore
from gateway.request.cost import Usage, cost_usd
from gateway.settings import OutcomeStoreSettings, ShadowSettings
from gateway.state.budgets import BudgetStore
from gateway.upstream.base import Target, UpstreamError
from gateway.upstream.caller import UpstreamCaller

log = logging.getLogger("triage.quality")
SHADOW_SCOPE = "shadow"


@dataclass(frozen=True, slots=True)
class ShadowJob:
    request_id: str
    ts: float
    profile: str
    tenant: str
    routed_tier: str
    other_tier: str
    frontier_tier: str
    payload: Mapping[str, Any]  # the client's body for a non-streamed call (model excluded)
    question: str  # the router's view of the conversation: what the judge reads
    answer: str  # the routed tier's answer
    prompt_tokens: int  # an estimate, for the spend reservation


@dataclass(slots=True)
class _Totals:
    routed: float = 0.0
    frontier: float = 0.0
    samples: int = 0


@dataclass(slots=True)
class ShadowEvaluator:
    settings: ShadowSettings
    store_settings: OutcomeStoreSettings
    rates: Mapping[str, float]  # profile → sampling rate
    caller: UpstreamCaller
    spend: BudgetStore  # the daily shadow spend cap
    store: OutcomeStore
    metrics: QualityMetrics
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], float] = time.time
    queue: asyncio.Queue[ShadowJob] = field(init=False)
    _totals: dict[str, _Totals] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.queue = asyncio.Queue(self.settings.queue_size)

    def sampled(self, profile: str) -> bool:
        """Whether this request of ``profile`` is shadowed (the rate, drawn per request)."""
        rate = self.rates.get(profile, 0.0)
        return rate > 0.0 and (rate >= 1.0 or self.rng.random() < rate)

    def skip(self, profile: str) -> None:
        """A sampled request that cannot be repeated safely (``n`` > 1)."""
        self.metrics.shadow.labels(profile, "skipped").inc()

    def offer(self, job: ShadowJob) -> None:
        try:
            self.queue.put_nowait(job)
        except asyncio.QueueFull:
            self.metrics.shadow.labels(job.profile, "shed").inc()

    async def run(self) -> None:
        """The workers, until cancelled (a task the runtime starts and stops)."""
        await asyncio.gather(*(self._worker() for _ in range(self.settings.concurrency)))

    async def _worker(self) -> None:
        while True:
            job = await self.queue.get()
            try:
                await self._evaluate(job)
            except Exception:  # a defect in one job must not stop the worker; logged once, here
                log.exception("shadow evaluation of %s failed", job.request_id)
                self.metrics.shadow.labels(job.profile, "failed").inc()
            finally:
                self.queue.task_done()

    def _estimate(self, job: ShadowJob) -> float:
        other = self.caller.targets[job.other_tier].price
        judge = self.caller.targets[self.settings.judge_tier].price
        out = int(job.payload.get("max_completion_tokens") or job.payload.get("max_tokens") or 512)
        judge_in = job.prompt_tokens + (len(job.answer) // 4) + out + 400
        return cost_usd(other, Usage(job.prompt_tokens, out)) + 2 * cost_usd(
            judge, Usage(judge_in, self.settings.judge_max_tokens)
        )

    async def _call(self, target: Target, payload: Mapping[str, Any]) -> tuple[str, float]:
        """One call, no retries: the answer's text and its cost."""
        transport = self.caller.transport_for(target)
        completion = await transport.complete(target, payload, self.settings.timeout_s)
        usage = Usage.from_body(completion.data.get("usage"))
        choices = completion.data.get("choices") or [{}]
        message = choices[0].get("message") or {}
        return str(message.get("content") or ""), cost_usd(target.price, usage) if usage else 0.0

    async def _evaluate(self, job: ShadowJob) -> None:
        now = self.clock()
        limit = self.settings.budget_usd
        reservation = await self.spend.reserve(SHADOW_SCOPE, self._estimate(job), now, limit)
        if reservation is None:
            self.metrics.shadow.labels(job.profile, "over_budget").inc()
            return
        spent = 0.0
        try:
            other, cost = await self._call(self.caller.targets[job.other_tier], {**job.payload, "stream": False})
            spent += cost
            judgement, cost = await self._judge(job, other)
            spent += cost
        except UpstreamError as exc:
            log.info("shadow evaluation of %s failed: %s", job.request_id, exc.kind)
            self.metrics.shadow.labels(job.profile, "failed").inc()
            return
        finally:
            await self.spend.settle(reservation[0], spent - reservation[1])
            self.metrics.cost.labels(job.profile).inc(spent)
        self._count(job, judgement)
        await self._store(job, other, judgement)

    async def _judge(self, job: ShadowJob, other: str) -> tuple[Judgement, float]:
        judge = self.caller.targets[self.settings.judge_tier]
        limit = self.settings.max_answer_chars

        def body(a: str, b: str) -> dict[str, Any]:
            messages = judge_messages(job.question, a, b, limit)
            return {"messages": messages, "temperature": 0, "max_tokens": self.settings.judge_max_tokens}

        (first, c1), (second, c2) = await asyncio.gather(
            self._call(judge, body(job.answer, other)), self._call(judge, body(other, job.answer))
        )
        judgement = combine(parse_verdict(first), parse_verdict(second))
        if not judgement.parsed:
            log.info("judge reply without a verdict for %s; counted as a tie", job.request_id)
        return judgement, c1 + c2

    def _count(self, job: ShadowJob, judgement: Judgement) -> None:
        routed, frontier = scores(judgement, job.routed_tier == job.frontier_tier)
        m = self.metrics
        m.shadow.labels(job.profile, "judged").inc()
        m.verdicts.labels(job.profile, job.routed_tier, judgement.verdict).inc()
        m.routed_score.labels(job.profile).inc(routed)
        m.frontier_score.labels(job.profile).inc(frontier)
        totals = self._totals.setdefault(job.profile, _Totals())
        totals.routed, totals.frontier, totals.samples = (
            totals.routed + routed,
            totals.frontier + frontier,
            totals.samples + 1,
        )
        if totals.frontier > 0:
            m.retained.labels(job.profile).set(totals.routed / totals.frontier)
        m.samples.labels(job.profile).set(totals.samples)

    async def _store(self, job: ShadowJob, other: str, judgement: Judgement) -> None:
        routed_q, frontier_q = scores(judgement, False)  # the two answers' pairwise quality
        routed_is_frontier = job.routed_tier == job.frontier_tier
        strong, weak = (routed_q, 1.0 - routed_q) if routed_is_frontier else (frontier_q, routed_q)
        cheap_tier = job.other_tier if routed_is_frontier else job.routed_tier
        row: dict[str, Any] = {
            "kind": "shadow",
            "request_id": job.request_id,
            "ts": job.ts,
            "profile": job.profile,
            "tenant": job.tenant,
            "routed_tier": job.routed_tier,
            "strong_tier": job.frontier_tier,
            "weak_tier": cheap_tier,
            "strong_model": self.caller.targets[job.frontier_tier].tier.model,
            "weak_model": self.caller.targets[cheap_tier].tier.model,
            "strong_score": strong,
            "weak_score": weak,
            "verdict": judgement.verdict,
            "consistent": judgement.consistent,
        }
        if self.store_settings.prompts:
            row["prompt"] = job.question
        if self.store_settings.answers:
            row["messages"] = list(job.payload.get("messages") or [])
            row["answers"] = {job.routed_tier: job.answer, job.other_tier: other}
        if not await self.store.add(row):
            log.warning("outcome row for %s could not be stored", job.request_id)
