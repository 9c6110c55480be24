"""What each step of a request returns, and the record of a finished request.

A request moves through four steps, each returning one frozen value (nothing writes
into a shared context)::

    admit  ──► Admitted   who is calling, which budgets apply, the TPM estimate counted
    lookup ──► Looked     the profile label, the counterfactual price, the cache plan and result
    route  ──► Routed     the router's score, the policy's decision, the budget reservations
    call   ──► Answered   the tier that answered, usage, cost and savings (streams: TTFT, cut)

``RequestLifecycle`` (``gateway.request.lifecycle``) holds the values as they arrive and
turns them into one ``RequestRecord`` when the request is settled; metrics and the
request log read only that record.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from gateway.cache.entry import CacheEntry
from gateway.cache.policy import CachePlan, CacheStatus
from gateway.request.cost import Usage
from gateway.settings import Price
from gateway.upstream.caller import CallTrace
from policies.types import RouteDecision
from routers.base import RouterScore

Endpoint = Literal["chat", "responses", "messages", "completions", "embeddings"]
"""The API a client called: /v1/chat/completions, /v1/responses, /v1/messages, /v1/completions, /v1/embeddings."""

_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{7,99}")


def new_request_id(client_id: str | None = None) -> str:
    """The client's ``x-request-id`` when well-formed (8-100 of ``A-Za-z0-9._:-``), else a new one.

    A client-chosen id is only ever looked up together with the caller's tenant (the feedback
    API), so one tenant can neither address nor collide with another's request.
    """
    if client_id is not None and _CLIENT_ID.fullmatch(client_id):
        return client_id
    return "req_" + os.urandom(12).hex()


@dataclass(frozen=True, slots=True)
class Admitted:
    """The caller and what applies to it; ``tokens`` is the TPM estimate to correct later."""

    namespace: str = "anon"  # the tenant's cache namespace (a hash of its credential)
    key_id: str | None = None  # the API key's id (never the key)
    allowed_tiers: frozenset[str] | None = None  # None: every tier
    budgets: tuple[tuple[str, float], ...] = ()  # (scope, limit USD)
    opted_out: bool = False  # the key's tenant opted out of the quality loop's outcome store
    tokens: int = 0
    headers: Mapping[str, str] = field(default_factory=dict)  # x-ratelimit-*


@dataclass(frozen=True, slots=True)
class Looked:
    """The model resolved and the cache consulted."""

    profile: str  # the model the client named: a profile or a tier (a metric label)
    frontier_price: Price  # the counterfactual: this request's frontier tier's prices
    plan: CachePlan
    status: CacheStatus
    entry: CacheEntry | None = None


@dataclass(frozen=True, slots=True)
class Routed:
    decision: RouteDecision
    score: RouterScore | None
    reservations: tuple[tuple[str, float], ...] = ()  # (budget window key, USD reserved)


@dataclass(frozen=True, slots=True)
class Answered:
    """What came back; for a cache hit, the original answer's tier and model at zero cost."""

    tier: str
    model: str
    usage: Usage | None
    cost: float | None
    savings_usd: float = 0.0  # frontier price of the same tokens minus what was spent
    saved_usd: float = 0.0  # cache hits: the cost of the call the hit replaced
    first_byte_s: float | None = None  # streams: request start to the first event sent
    interrupted: bool = False  # a stream that broke after its first byte


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """One finished request, as metrics and the request log see it."""

    request_id: str
    status: int
    elapsed_s: float
    stream: bool
    admitted: Admitted
    looked: Looked | None
    routed: Routed | None
    answered: Answered | None
    trace: CallTrace
    prompt: str | None = None  # the last user message, only when log_prompts is on
    payload: Mapping[str, Any] | None = None  # the client's JSON body (for the quality loop; never logged)
    answer_text: str | None = None  # what the answering tier produced (for the quality loop; never logged)
    endpoint: Endpoint = "chat"  # the API the client called

    @property
    def profile(self) -> str:
        return self.looked.profile if self.looked is not None else "unknown"

    @property
    def cache_status(self) -> CacheStatus | None:
        return self.looked.status if self.looked is not None else None

    @property
    def score(self) -> RouterScore | None:
        return self.routed.score if self.routed is not None else None

    @property
    def decision(self) -> RouteDecision | None:
        return self.routed.decision if self.routed is not None else None
