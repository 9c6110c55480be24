"""The request path: cache lookup, then router, then policy, then upstream, then cache store.

No HTTP here: handlers in ``gateway.http`` parse and serialise; this module works on
a validated request and the client's raw JSON payload.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson

from gateway.cache.entry import CacheEntry, StreamAssembler, replay_events
from gateway.cache.policy import CachePlan, ResponseCache
from gateway.protocol.errors import (
    GatewayError,
    InvalidRequest,
    ModelNotFound,
    Scrubber,
    error_body,
    from_policy,
    from_upstream,
)
from gateway.protocol.schemas import ChatCompletionRequest
from gateway.request.cost import Usage, cost_usd
from gateway.request.route_inputs import request_facts
from gateway.request.state import RequestContext
from gateway.request.tokens import TokenCounter
from gateway.state.breakers import Breakers
from gateway.state.budgets import BudgetStore
from gateway.upstream.base import Chunk, Target, UpstreamError
from gateway.upstream.caller import StreamStart, UpstreamCaller
from policies.decide import decide
from policies.types import BudgetExceeded, NoEligibleRoute, ProfileView, RouteDecision, RouteInputs, TierView
from routers.base import Router

log = logging.getLogger("triage.pipeline")
DONE = b"data: [DONE]\n\n"
GLOBAL_BUDGET = "global"


@dataclass(frozen=True, slots=True)
class ProfileRoute:
    """A profile made ready: its router and its calibrated threshold."""

    view: ProfileView
    router: Router


@dataclass(frozen=True, slots=True)
class CompletionOutcome:
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class StreamOutcome:
    headers: dict[str, str]
    events: AsyncIterator[bytes]


class Pipeline:
    """Looks up, resolves, scores, decides, calls and stores; built once in ``lifespan``."""

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
        self.tiers = {name: _tier_view(target) for name, target in caller.targets.items()}
        self.smallest_window = min(t.context_window for t in self.tiers.values())

    def check_model(self, model: str, ctx: RequestContext) -> None:
        """Reject an unknown model; note the profile label and the counterfactual frontier price."""
        if model in self.profiles:
            frontier = self.profiles[model].view.frontier_tier
        elif model in self.tiers:
            frontier = "frontier"
        else:
            known = ", ".join([*self.profiles, *self.tiers])
            raise ModelNotFound(f"The model '{model}' does not exist; known models: {known}", param="model")
        ctx.profile = model
        ctx.frontier_price = self.caller.targets[frontier].price

    async def route(self, request: ChatCompletionRequest, raw: Mapping[str, Any], ctx: RequestContext) -> RouteDecision:
        """Score (for a profile), gather the state snapshots, decide, and reserve budget.

        Routers and token counts read the client's own message dicts (``raw``), already
        validated by ``request``: no re-serialisation on the hot path.
        """
        now = time.time()
        messages: list[Mapping[str, Any]] = raw["messages"]
        pinned = request.model if request.model in self.tiers else None
        if pinned is None and ctx.tier_header is not None and request.model in self.header_pins:
            if ctx.tier_header not in self.tiers:
                raise InvalidRequest(f"x-triage-tier: no tier named {ctx.tier_header!r}", param="x-triage-tier")
            pinned = ctx.tier_header
        profile = self.profiles.get(request.model)
        if pinned is None and profile is not None:
            ctx.score = await profile.router.score(messages)
        expected = self.budgets.settings.expected_output_tokens
        inputs = RouteInputs(
            pinned_tier=pinned,
            profile=profile.view if profile is not None else None,
            score=ctx.score.value if ctx.score is not None else None,
            facts=request_facts(request, messages, self.counter, self.smallest_window, expected),
            health=self.breakers.health(now),
            allowed_tiers=ctx.allowed_tiers,
        )
        for attempt in range(2):
            snapshots = [await self.budgets.snapshot(scope, now, limit) for scope, limit in ctx.budgets]
            inputs = replace(inputs, budgets=tuple(snapshots))
            try:
                ctx.decision = decide(inputs, self.tiers)
            except NoEligibleRoute as exc:
                raise from_policy(exc) from None
            if not ctx.budgets or await self._reserve(ctx, ctx.decision, inputs, now):
                return ctx.decision
            log.info("request %s: budget reservation lost a race (attempt %d); deciding again", ctx.request_id, attempt)
        scopes = ", ".join(scope for scope, _ in ctx.budgets)
        raise from_policy(BudgetExceeded(f"budget {scopes} exhausted: this request would overspend it"))

    async def _reserve(self, ctx: RequestContext, decision: RouteDecision, inputs: RouteInputs, now: float) -> bool:
        """Reserve the estimate in every budget that applies; all or nothing."""
        tier = self.tiers[decision.tier]
        estimate = tier.estimate_usd(inputs.facts.prompt_tokens, inputs.facts.estimate_output_tokens)
        for scope, limit in ctx.budgets:
            reservation = await self.budgets.reserve(scope, estimate, now, limit)
            if reservation is None:
                await self.settle(ctx)  # refund the scopes reserved so far
                return False
            ctx.reservations.append(reservation)
        return True

    async def settle(self, ctx: RequestContext) -> None:
        """Replace the budget reservations by what the request actually cost (0 if it failed).

        Idempotent: the reservations are taken off the context before they are settled.
        """
        reservations, ctx.reservations = ctx.reservations, []
        for key, reserved in reservations:
            await self.budgets.settle(key, (ctx.cost or 0.0) - reserved)

    def _payload(self, raw: Mapping[str, Any], stream: bool) -> dict[str, Any]:
        payload = {k: v for k, v in raw.items() if k != "model"}
        if stream:
            options = dict(payload.get("stream_options") or {})
            options["include_usage"] = True  # always ask, so every stream is priced
            payload["stream_options"] = options
        return payload

    def _account(self, ctx: RequestContext, usage: Usage | None) -> None:
        """Cost and savings of what was produced; savings never go below 0 (a counter)."""
        ctx.usage = usage
        if usage is not None and ctx.target is not None:
            ctx.cost = cost_usd(ctx.target.price, usage)
            if ctx.frontier_price is not None:
                ctx.savings_usd = max(cost_usd(ctx.frontier_price, usage) - ctx.cost, 0.0)

    def _usage(self, raw: Mapping[str, Any], reported: object, produced: str) -> Usage:
        """The upstream's usage, else tiktoken's count of the prompt and what was produced."""
        usage = Usage.from_body(reported)
        if usage is None:
            usage = self.counter.usage(raw["messages"], produced)
        return usage

    async def _lookup(
        self, request: ChatCompletionRequest, raw: Mapping[str, Any], ctx: RequestContext
    ) -> tuple[CachePlan, CacheEntry | None]:
        self.check_model(request.model, ctx)
        plan = self.cache.plan(request, raw, ctx.namespace, ctx.cache_control)
        entry, ctx.cache_status = await self.cache.lookup(plan)
        if entry is not None:
            ctx.tier, ctx.model, ctx.cost, ctx.saved_usd = entry.tier, entry.model, 0.0, entry.cost_usd
            ctx.usage = Usage.from_body(entry.body.get("usage"))
            if ctx.usage is not None and ctx.frontier_price is not None:
                ctx.savings_usd = cost_usd(ctx.frontier_price, ctx.usage)
        return plan, entry

    async def complete(
        self, request: ChatCompletionRequest, raw: Mapping[str, Any], ctx: RequestContext
    ) -> CompletionOutcome:
        plan, entry = await self._lookup(request, raw, ctx)
        if entry is not None:
            return CompletionOutcome(orjson.dumps(entry.body), ctx.headers())
        decision = await self.route(request, raw, ctx)
        deadline = time.monotonic() + self.deadline_s
        payload = self._payload(raw, stream=False)
        try:
            target, completion = await self.caller.complete(decision.chain, payload, deadline, ctx.trace)
        except UpstreamError as exc:
            await self.settle(ctx)
            raise self._failed(exc, ctx) from None
        ctx.answered_by(target)
        self._account(ctx, self._usage(raw, completion.data.get("usage"), _completion_text(completion.data)))
        await self.settle(ctx)
        await self.cache.save(plan, completion.data, target.name, target.tier.model, ctx.cost)
        body = completion.raw if completion.raw is not None else orjson.dumps(completion.data)
        return CompletionOutcome(body, ctx.headers())

    async def stream(
        self, request: ChatCompletionRequest, raw: Mapping[str, Any], ctx: RequestContext
    ) -> StreamOutcome:
        plan, entry = await self._lookup(request, raw, ctx)
        if entry is not None:
            return StreamOutcome(ctx.headers(), _replay(entry, request.include_usage))
        decision = await self.route(request, raw, ctx)
        deadline = time.monotonic() + self.deadline_s
        try:
            start = await self.caller.open_stream(decision.chain, self._payload(raw, True), deadline, ctx.trace)
        except UpstreamError as exc:
            await self.settle(ctx)
            raise self._failed(exc, ctx) from None
        ctx.answered_by(start.target)
        return StreamOutcome(ctx.headers(), self._events(start, request, raw, ctx, plan))

    def _failed(self, exc: UpstreamError, ctx: RequestContext) -> GatewayError:
        error = from_upstream(exc, self.scrub)
        error.headers = ctx.headers()
        log.warning(
            "request %s failed after %d attempt(s) on %s: %s",
            ctx.request_id,
            ctx.trace.attempts,
            ",".join(ctx.trace.tiers),
            error.message,
        )
        return error

    async def _events(
        self,
        start: StreamStart,
        request: ChatCompletionRequest,
        raw: Mapping[str, Any],
        ctx: RequestContext,
        plan: CachePlan,
    ) -> AsyncIterator[bytes]:
        """The SSE bytes for the client: the upstream's events, then ``[DONE]``.

        A failure after the first byte cannot change the status any more: it becomes
        an error event, then ``[DONE]``, and the stream closes. Usage comes from the
        upstream's usage chunk; a stream cut before it is charged for what was produced
        (counted with tiktoken). Only a stream that completed is stored in the cache.
        """
        assembler = StreamAssembler()
        reported: object = None
        try:
            chunk: Chunk | None = start.first
            while chunk is not None:
                if chunk.data.get("usage"):
                    reported = chunk.data["usage"]
                assembler.feed(chunk.data)
                usage_only = not chunk.data.get("choices") and chunk.data.get("usage")
                if request.include_usage or not usage_only:
                    if ctx.first_byte_s is None:
                        ctx.first_byte_s = time.perf_counter() - ctx.started
                    yield b"data: " + chunk.raw + b"\n\n"
                chunk = await anext(start.rest, None)
            self._account(ctx, self._usage(raw, reported, assembler.text()))
            whole = assembler.completion() if plan.store else None
            if whole is not None:
                await self.cache.save(plan, whole, start.target.name, start.target.tier.model, ctx.cost)
            yield DONE
        except UpstreamError as exc:
            ctx.interrupted = True
            message = self.scrub(exc.message)
            log.warning("request %s: stream broke after it started: %s", ctx.request_id, message)
            body = error_body(f"upstream stream failed: {message}", "upstream_error", None, "stream_interrupted")
            yield b"data: " + orjson.dumps(body) + b"\n\n"
            yield DONE
        finally:
            if ctx.usage is None:
                self._account(ctx, self._usage(raw, reported, assembler.text()))
            await self.settle(ctx)
            closer = getattr(start.rest, "aclose", None)
            if closer is not None:
                await closer()


def _tier_view(target: Target) -> TierView:
    tier = target.tier
    return TierView(
        name=target.name,
        model=tier.model,
        fallbacks=tier.fallbacks,
        context_window=tier.context_window,
        capabilities=frozenset(tier.capabilities),
        input_per_mtok=target.price.input_per_mtok,
        output_per_mtok=target.price.output_per_mtok,
    )


def _completion_text(body: Mapping[str, Any]) -> str:
    parts: list[str] = []
    for choice in body.get("choices") or ():
        message = choice.get("message") or {}
        parts.append(message.get("content") or "")
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            parts.append(str(function.get("name", "")) + str(function.get("arguments", "")))
    return "".join(parts)


async def _replay(entry: CacheEntry, include_usage: bool) -> AsyncIterator[bytes]:
    for event in replay_events(entry.body, include_usage):
        yield event
    yield DONE
