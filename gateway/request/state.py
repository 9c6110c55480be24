"""``RequestContext``: everything known about one request as it moves along the path."""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from gateway.cache.policy import CacheControl, CacheStatus
from gateway.request.cost import Usage
from gateway.settings import Price
from gateway.upstream.base import Target
from gateway.upstream.caller import CallTrace
from policies.types import RouteDecision
from routers.base import RouterScore


def new_request_id() -> str:
    return "req_" + os.urandom(12).hex()


@dataclass(slots=True)
class RequestContext:
    request_id: str
    started: float
    profile: str = "unknown"  # the model the client named, once known to be a profile or tier (a metric label)
    stream: bool = False
    namespace: str = "anon"  # the tenant's cache namespace
    cache_control: CacheControl = field(default_factory=CacheControl)
    cache_status: CacheStatus | None = None
    decision: RouteDecision | None = None
    score: RouterScore | None = None
    trace: CallTrace = field(default_factory=CallTrace)
    tier: str | None = None  # the tier that answered (after fallbacks), or the cached answer's tier
    model: str | None = None
    target: Target | None = None
    usage: Usage | None = None
    cost: float | None = None
    saved_usd: float = 0.0  # what a cache hit saved: the cost of the call it replaced
    frontier_price: Price | None = None  # the counterfactual: this request's frontier tier's prices
    savings_usd: float = 0.0  # frontier price of the same tokens minus what was spent
    first_byte_s: float | None = None  # streams: seconds from request start to the first event sent
    interrupted: bool = False  # a stream that broke after its first byte
    tier_header: str | None = None  # x-triage-tier, honoured where the profile allows it
    reservations: list[tuple[str, float]] = field(default_factory=list)  # (budget window key, USD) until settled
    budgets: list[tuple[str, float]] = field(default_factory=list)  # (scope, limit USD) that apply to this request
    allowed_tiers: frozenset[str] | None = None  # the API key's tiers (None: every tier)
    key_id: str | None = None  # the API key's id (never the key)
    admitted_tokens: int = 0  # the TPM estimate counted at admission, corrected after the request
    prompt: str | None = None  # the last user message, kept only when log_prompts is on

    def answered_by(self, target: Target) -> None:
        self.target, self.tier, self.model = target, target.name, target.tier.model

    def headers(self) -> dict[str, str]:
        headers = {"x-triage-request-id": self.request_id}
        if self.cache_status is not None:
            headers["x-triage-cache"] = self.cache_status
        if self.score is not None:
            headers["x-triage-score"] = f"{self.score.value:.4f}"
        if self.cache_status == "hit":
            headers["x-triage-reason"] = "cache hit"
        elif self.decision is not None:
            reason = self.decision.detail
            if self.tier is not None and self.tier != self.decision.tier:
                reason += f"; fell back from {self.decision.tier} to {self.tier}"
            headers["x-triage-reason"] = reason
        if self.tier is not None and self.model is not None:
            headers["x-triage-tier"] = self.tier
            headers["x-triage-model"] = self.model
        if self.cost is not None:
            headers["x-triage-cost-usd"] = f"{self.cost:.8f}"
        return headers
