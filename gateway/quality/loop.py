"""``QualityLoop``: the quality loop's parts, built once, told of every finished request.

For each recorded request (a ``Runtime`` listener) it remembers the request id for
feedback, and — for a sample of successful, routed, repeatable requests of tenants that
did not opt out — hands a shadow job to the evaluator. Feedback rows are written here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from gateway.quality.metrics import QualityMetrics
from gateway.quality.requests import RequestIndex, RequestRef
from gateway.quality.shadow import ShadowEvaluator, ShadowJob
from gateway.quality.store import OutcomeStore
from gateway.request.tokens import estimate_prompt_tokens
from gateway.request.values import RequestRecord
from gateway.settings import QualitySettings
from policies.types import ProfileView
from routers.base import prompt_text

log = logging.getLogger("triage.quality")


@dataclass(slots=True)
class QualityLoop:
    settings: QualitySettings
    profiles: Mapping[str, ProfileView]
    evaluator: ShadowEvaluator
    index: RequestIndex
    store: OutcomeStore
    metrics: QualityMetrics
    _pending: set[asyncio.Task[None]] = field(default_factory=set)

    def observe(self, rec: RequestRecord) -> None:
        """A finished request (called synchronously by the runtime's recorder)."""
        answered = rec.answered
        if rec.status != 200 or answered is None or rec.looked is None:
            return
        ref = RequestRef(
            rec.request_id,
            rec.admitted.namespace,
            rec.profile,
            answered.tier,
            answered.model,
            self.evaluator.clock(),
            rec.admitted.opted_out,
        )
        self._spawn(self.index.remember(ref))
        job = self._job(rec)
        if job is not None:
            self.evaluator.offer(job)

    def _job(self, rec: RequestRecord) -> ShadowJob | None:
        profile = self.profiles.get(rec.profile)
        routed, answered, payload = rec.routed, rec.answered, rec.payload
        if profile is None or routed is None or routed.score is None or answered is None or payload is None:
            return None  # a cache hit, a pinned tier, or no profile: nothing was routed
        if rec.endpoint == "completions":
            return None  # a legacy completion is not a chat request: the shadow would ask another question
        if rec.admitted.opted_out or not rec.answer_text or not self.evaluator.sampled(profile.name):
            return None
        if int(payload.get("n") or 1) > 1:
            self.evaluator.skip(profile.name)  # n > 1 is not safely repeatable here
            return None
        other = profile.cheap_tier if answered.tier == profile.frontier_tier else profile.frontier_tier
        messages: list[Mapping[str, Any]] = list(payload.get("messages") or [])
        body = {k: v for k, v in payload.items() if k not in ("model", "stream", "stream_options")}
        return ShadowJob(
            request_id=rec.request_id,
            ts=self.evaluator.clock(),
            profile=profile.name,
            tenant=rec.admitted.namespace,
            routed_tier=answered.tier,
            other_tier=other,
            frontier_tier=profile.frontier_tier,
            payload=body,
            question=prompt_text(messages),
            answer=rec.answer_text,
            prompt_tokens=estimate_prompt_tokens(messages),
        )

    def _spawn(self, work: Any) -> None:
        task = asyncio.get_running_loop().create_task(work)
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def lookup(self, tenant: str, request_id: str) -> RequestRef | None:
        """The tenant's recent request with this id, or ``None`` (unknown, expired, another tenant's)."""
        return await self.index.lookup(tenant, request_id)

    async def feedback(self, ref: RequestRef, score: float, kind: str) -> bool:
        """Record one feedback (score in [0, 1]); ``False`` if the store failed."""
        self.metrics.feedback.labels(ref.profile, kind).inc()
        if ref.opted_out:
            return True  # counted, never stored
        row = {
            "kind": "feedback",
            "request_id": ref.request_id,
            "ts": self.evaluator.clock(),
            "request_ts": ref.ts,
            "profile": ref.profile,
            "tenant": ref.tenant,
            "routed_tier": ref.tier,
            "routed_model": ref.model,
            "score": score,
        }
        return await self.store.add(row)
