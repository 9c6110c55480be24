"""The steps of the request path: lookup, route, call, account, settle — each returns a value.

No HTTP here, and no lifecycle: ``gateway.request.lifecycle`` sequences these steps
for one request and owns its settlement. Every step reads the validated request and
the client's raw JSON payload and returns a frozen value (``gateway.request.values``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from gateway.cache.entry import CacheEntry
from gateway.cache.policy import CacheControl, CachePlan, ResponseCache
from gateway.protocol.errors import GatewayError, InvalidRequest, ModelNotFound, Scrubber, from_policy, from_upstream
from gateway.protocol.schemas import ChatCompletionRequest
from gateway.request.cost import Usage, cost_usd
from gateway.request.route_inputs import request_facts
from gateway.request.sticky import Stickiness
from gateway.request.tokens import TokenCounter
from gateway.request.values import Admitted, Answered, Looked, Routed
from gateway.settings import Price
from gateway.state.breakers import Breakers
from gateway.state.budgets import BudgetStore
from gateway.tracing import NOOP_SPAN, Span
from gateway.upstream.base import Api, Completion, Target, UpstreamError
from gateway.upstream.caller import CallTrace, StreamStart, UpstreamCaller
from policies.decide import decide
from policies.types import BudgetExceeded, NoEligibleRoute, ProfileView, RouteInputs, TierView
from routers.base import Router

log = logging.getLogger("triage.pipeline")
GLOBAL_BUDGET = "global"


@dataclass(frozen=True, slots=True)
class ProfileRoute:
    """A profile made ready: its router and its calibrated threshold."""

    view: ProfileView
    router: Router


class Pipeline:
    """The request path's steps and the services they use; built once in ``lifespan``."""

    def __init__(
        self,
        profiles: Mapping[str, ProfileRoute],
        caller: UpstreamCaller,
        cache: ResponseCache,
        scrub: Scrubber,
        deadline_s: float,
        counter: TokenCounter,
        breakers: Breakers,
        budgets: BudgetStore,
        header_pins: frozenset[str] = frozenset(),
        ood_to_frontier: frozenset[str] = frozenset(),
        sticky: Stickiness | None = None,
    ) -> None:
        self.counter = counter
        self.profiles = dict(profiles)
        self.caller = caller
        self.cache = cache
        self.scrub = scrub
        self.deadline_s = deadline_s
        self.breakers = breakers
        self.budgets = budgets
        self.header_pins = header_pins  # profiles that honour the x-triage-tier header
        self.ood_to_frontier = ood_to_frontier  # profiles that send out-of-distribution prompts to the frontier
        self.sticky = sticky if sticky is not None else Stickiness({})  # sticky profiles' conversation floors
        self.tiers = {name: _tier_view(target) for name, target in caller.targets.items()}
        self.smallest_window = min(t.context_window for t in self.tiers.values())

    def _frontier_price(self, model: str) -> Price:
        """The counterfactual's prices; an unknown model is a 404."""
        if model in self.profiles:
            return self.caller.targets[self.profiles[model].view.frontier_tier].price
        if model in self.tiers:
            target = self.caller.targets[model]
            # an embeddings tier has no frontier alternative: its counterfactual is itself (no savings)
            return target.price if target.tier.kind == "embeddings" else self.caller.targets["frontier"].price
        known = ", ".join([*self.profiles, *self.tiers])
        raise ModelNotFound(f"The model '{model}' does not exist; known models: {known}", param="model")

    async def lookup(
        self,
        request: ChatCompletionRequest,
        raw: Mapping[str, Any],
        namespace: str,
        control: CacheControl,
        tier_header: str | None,
        api: Api = "chat",
    ) -> Looked:
        """Resolve the model and consult the cache (keyed by the tier a header pinned, if any)."""
        frontier_price = self._frontier_price(request.model)
        header_pin = self._pin(request, tier_header) if request.model in self.header_pins else None
        plan = self.cache.plan(request, raw, namespace, control, header_pin, api)
        entry, status = await self.cache.lookup(plan)
        return Looked(request.model, frontier_price, plan, status, entry)

    def from_cache(self, looked: Looked, entry: CacheEntry) -> Answered:
        """A cache hit: the original tier and model, nothing spent, the whole frontier price saved."""
        usage = Usage.from_body(entry.body.get("usage"))
        savings = cost_usd(looked.frontier_price, usage) if usage is not None else 0.0
        return Answered(entry.tier, entry.model, usage, 0.0, savings_usd=savings, saved_usd=entry.cost_usd)

    def _pin(self, request: ChatCompletionRequest, tier_header: str | None) -> str | None:
        if request.model in self.tiers:
            return request.model
        if tier_header is not None and request.model in self.header_pins:
            if tier_header not in self.tiers:
                raise InvalidRequest(f"x-triage-tier: no tier named {tier_header!r}", param="x-triage-tier")
            return tier_header
        return None

    async def route(
        self,
        request: ChatCompletionRequest,
        raw: Mapping[str, Any],
        admitted: Admitted,
        tier_header: str | None,
        api: Api = "chat",
        conversation: str | None = None,
        span: Span = NOOP_SPAN,
    ) -> Routed:
        """Score (for a profile), gather the state snapshots, decide, and reserve budget.

        Routers and token counts read the client's own message dicts (``raw``), already
        validated by ``request``: no re-serialisation on the hot path. A sticky profile's
        turn reads its conversation's floor first (``conversation``: the client's
        ``x-triage-conversation`` header) and raises it once the route is reserved.
        """
        now = time.time()
        messages: list[Mapping[str, Any]] = raw["messages"]
        pinned = self._pin(request, tier_header)
        profile = self.profiles.get(request.model)
        with span.child("triage.router") as scored:
            score = await profile.router.score(messages) if pinned is None and profile is not None else None
            scored.set("triage.score", score.value if score is not None else None)
            scored.set("triage.router", score.router if score is not None else None)
            scored.set("triage.pinned_tier", pinned)
        expected = self.budgets.settings.expected_output_tokens
        policy_score = score.value if score is not None else None
        if score is not None and score.ood and request.model in self.ood_to_frontier:
            policy_score = 1.0  # out of distribution: the profile sends it to the frontier
        turn = None
        if profile is not None and pinned is None and request.model in self.sticky:
            turn = await self.sticky.recall(request.model, raw, admitted.namespace, conversation, now)
        inputs = RouteInputs(
            pinned_tier=pinned,
            profile=profile.view if profile is not None else None,
            score=policy_score,
            facts=request_facts(request, messages, self.counter, self.smallest_window, expected, api),
            health=self.breakers.health(now),
            allowed_tiers=admitted.allowed_tiers,
            floor=turn.floor if turn is not None else None,
        )
        for attempt in range(2):
            snapshots = [await self.budgets.snapshot(scope, now, limit) for scope, limit in admitted.budgets]
            inputs = replace(inputs, budgets=tuple(snapshots))
            with span.child("triage.policy") as decided:
                try:
                    decision = decide(inputs, self.tiers)
                    if not self.breakers.claim_probe(decision.tier, now):
                        # another request is this half-open tier's probe: route as if it were open
                        inputs = replace(inputs, health={**inputs.health, decision.tier: "open"})
                        decision = decide(inputs, self.tiers)
                except NoEligibleRoute as exc:
                    raise from_policy(exc) from None
                decided.set("triage.tier", decision.tier)
                decided.set("triage.reason", decision.reason)
                decided.set("triage.score", policy_score)
            estimate = self.tiers[decision.tier].estimate_usd(
                inputs.facts.prompt_tokens, inputs.facts.estimate_output_tokens
            )
            reservations = await self._reserve(admitted.budgets, estimate, now)
            if reservations is not None:
                if turn is not None and profile is not None:
                    await self.sticky.remember(turn, decision.tier, profile.view.rungs, now)
                return Routed(decision, score, reservations)
            log.info("budget reservation lost a race (attempt %d); deciding again", attempt)
        scopes = ", ".join(scope for scope, _ in admitted.budgets)
        raise from_policy(BudgetExceeded(f"budget {scopes} exhausted: this request would overspend it"))

    async def _reserve(
        self, budgets: tuple[tuple[str, float], ...], estimate: float, now: float
    ) -> tuple[tuple[str, float], ...] | None:
        """Reserve the estimate in every budget that applies; all or nothing."""
        reserved: list[tuple[str, float]] = []
        for scope, limit in budgets:
            reservation = await self.budgets.reserve(scope, estimate, now, limit)
            if reservation is None:
                await self.settle(tuple(reserved), None)  # refund the scopes reserved so far
                return None
            reserved.append(reservation)
        return tuple(reserved)

    async def settle(self, reservations: tuple[tuple[str, float], ...], cost: float | None) -> None:
        """Replace the budget reservations by what the request actually cost (0 if it failed)."""
        for key, reserved in reservations:
            await self.budgets.settle(key, (cost or 0.0) - reserved)

    def payload(self, raw: Mapping[str, Any], stream: bool, api: Api = "chat") -> dict[str, Any]:
        """The client's body for the upstream (model excluded); streams always ask for usage.

        (A Responses stream reports usage in its last event unasked.)
        """
        payload = {k: v for k, v in raw.items() if k != "model"}
        if stream and api != "responses":
            options = dict(payload.get("stream_options") or {})
            options["include_usage"] = True  # always ask, so every stream is priced
            payload["stream_options"] = options
        return payload

    async def call(
        self, routed: Routed, raw: Mapping[str, Any], trace: CallTrace, api: Api = "chat"
    ) -> tuple[Target, Completion]:
        deadline = time.monotonic() + self.deadline_s
        return await self.caller.complete(routed.decision.chain, self.payload(raw, False, api), deadline, trace, api)

    async def open_stream(
        self, routed: Routed, raw: Mapping[str, Any], trace: CallTrace, api: Api = "chat"
    ) -> StreamStart:
        deadline = time.monotonic() + self.deadline_s
        return await self.caller.open_stream(routed.decision.chain, self.payload(raw, True, api), deadline, trace, api)

    def speaks_responses(self, chain: Sequence[str]) -> bool:
        """Every tier of the route relays the Responses API itself (``responses`` capability, relay transport)."""
        targets = self.caller.targets
        return all(
            "responses" in targets[n].capabilities and targets[n].tier.resolved_transport == "relay" for n in chain
        )

    def answered(self, target: Target, looked: Looked, usage: Usage | None, **stream: Any) -> Answered:
        """Cost and savings of what was produced; savings never go below 0 (a counter)."""
        if usage is None:
            return Answered(target.name, target.tier.model, None, None, **stream)
        cost = cost_usd(target.price, usage)
        savings = max(cost_usd(looked.frontier_price, usage) - cost, 0.0)
        return Answered(target.name, target.tier.model, usage, cost, savings_usd=savings, **stream)

    def usage(self, raw: Mapping[str, Any], reported: object, produced: str) -> Usage:
        """The upstream's usage, else tiktoken's count of the prompt and what was produced."""
        usage = Usage.from_body(reported)
        if usage is None:
            usage = self.counter.usage(raw["messages"], produced)
        return usage

    async def save(self, plan: CachePlan, body: dict[str, Any], answered: Answered) -> None:
        await self.cache.save(plan, body, answered.tier, answered.model, answered.cost)

    def failed(self, exc: UpstreamError, trace: CallTrace, request_id: str) -> GatewayError:
        """The client's error for an upstream failure (scrubbed), logged once."""
        error = from_upstream(exc, self.scrub)
        log.warning(
            "request %s failed after %d attempt(s) on %s: %s",
            request_id,
            trace.attempts,
            ",".join(trace.tiers),
            error.message,
        )
        return error


def _tier_view(target: Target) -> TierView:
    tier = target.tier
    return TierView(
        name=target.name,
        model=tier.model,
        fallbacks=tier.fallbacks,
        context_window=tier.context_window,
        capabilities=target.capabilities,
        input_per_mtok=target.price.input_per_mtok,
        output_per_mtok=target.price.output_per_mtok,
        kind=tier.kind,
    )


def completion_text(body: Mapping[str, Any]) -> str:
    """The text a completion produced (content and tool calls; a legacy completion's text)."""
    parts: list[str] = []
    for choice in body.get("choices") or ():
        if isinstance(choice.get("text"), str):
            parts.append(choice["text"])
        message = choice.get("message") or {}
        parts.append(message.get("content") or "")
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            parts.append(str(function.get("name", "")) + str(function.get("arguments", "")))
    return "".join(parts)
