"""The request path: resolve the model, score, decide, call upstream, account.

No HTTP here: handlers in ``gateway.api`` parse and serialise; this module works
on a validated request and the client's raw JSON payload.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from gateway.cost import Usage, cost_usd
from gateway.errors import GatewayError, ModelNotFound, Scrubber, error_body, from_upstream
from gateway.schemas import ChatCompletionRequest
from gateway.upstream.base import Chunk, Target, UpstreamError
from gateway.upstream.caller import CallTrace, StreamStart, UpstreamCaller
from policies.decide import decide
from policies.types import ProfileView, RouteDecision, RouteInputs, TierView
from routers.base import Router, RouterScore

log = logging.getLogger("triage.pipeline")
DONE = b"data: [DONE]\n\n"


@dataclass(slots=True)
class RequestContext:
    """Everything known about one request as it moves along the path."""

    request_id: str
    started: float
    decision: RouteDecision | None = None
    score: RouterScore | None = None
    trace: CallTrace = field(default_factory=CallTrace)
    target: Target | None = None
    usage: Usage | None = None
    cost: float | None = None

    def headers(self) -> dict[str, str]:
        headers = {"x-triage-request-id": self.request_id}
        if self.score is not None:
            headers["x-triage-score"] = f"{self.score.value:.4f}"
        if self.decision is not None:
            reason = self.decision.detail
            if self.target is not None and self.target.name != self.decision.tier:
                reason += f"; fell back from {self.decision.tier} to {self.target.name}"
            headers["x-triage-reason"] = reason
        if self.target is not None:
            headers["x-triage-tier"] = self.target.name
            headers["x-triage-model"] = self.target.tier.model
        if self.cost is not None:
            headers["x-triage-cost-usd"] = f"{self.cost:.8f}"
        return headers


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


def new_request_id() -> str:
    return "req_" + os.urandom(12).hex()


class Pipeline:
    """Resolves, scores, decides and calls; built once in ``lifespan``."""

    def __init__(
        self,
        profiles: Mapping[str, ProfileRoute],
        caller: UpstreamCaller,
        scrub: Scrubber,
        deadline_s: float,
    ) -> None:
        self.profiles = dict(profiles)
        self.caller = caller
        self.scrub = scrub
        self.deadline_s = deadline_s
        self.tiers = {
            name: TierView(name, target.tier.model, target.tier.fallbacks) for name, target in caller.targets.items()
        }

    async def route(self, request: ChatCompletionRequest, ctx: RequestContext) -> RouteDecision:
        if request.model in self.tiers:
            ctx.decision = decide(RouteInputs(pinned_tier=request.model), self.tiers)
            return ctx.decision
        profile = self.profiles.get(request.model)
        if profile is None:
            known = ", ".join([*self.profiles, *self.tiers])
            raise ModelNotFound(f"The model '{request.model}' does not exist; known models: {known}", param="model")
        messages = [m.model_dump(exclude_none=True) for m in request.messages]
        ctx.score = await profile.router.score(messages)
        ctx.decision = decide(RouteInputs(profile=profile.view, score=ctx.score.value), self.tiers)
        return ctx.decision

    def _payload(self, raw: Mapping[str, Any], stream: bool) -> dict[str, Any]:
        payload = {k: v for k, v in raw.items() if k != "model"}
        if stream:
            options = dict(payload.get("stream_options") or {})
            options["include_usage"] = True  # always ask, so every stream is priced
            payload["stream_options"] = options
        return payload

    def _account(self, ctx: RequestContext, usage: Usage | None) -> None:
        ctx.usage = usage
        if usage is not None and ctx.target is not None:
            ctx.cost = cost_usd(ctx.target.price, usage)

    async def complete(
        self, request: ChatCompletionRequest, raw: Mapping[str, Any], ctx: RequestContext
    ) -> CompletionOutcome:
        decision = await self.route(request, ctx)
        deadline = time.monotonic() + self.deadline_s
        try:
            target, completion = await self.caller.complete(
                decision.chain, self._payload(raw, False), deadline, ctx.trace
            )
        except UpstreamError as exc:
            raise self._failed(exc, ctx) from None
        ctx.target = target
        self._account(ctx, Usage.from_body(completion.data.get("usage")))
        body = completion.raw if completion.raw is not None else orjson.dumps(completion.data)
        return CompletionOutcome(body, ctx.headers())

    async def stream(
        self, request: ChatCompletionRequest, raw: Mapping[str, Any], ctx: RequestContext
    ) -> StreamOutcome:
        decision = await self.route(request, ctx)
        deadline = time.monotonic() + self.deadline_s
        try:
            start = await self.caller.open_stream(decision.chain, self._payload(raw, True), deadline, ctx.trace)
        except UpstreamError as exc:
            raise self._failed(exc, ctx) from None
        ctx.target = start.target
        return StreamOutcome(ctx.headers(), self._events(start, request.include_usage, ctx))

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

    async def _events(self, start: StreamStart, include_usage: bool, ctx: RequestContext) -> AsyncIterator[bytes]:
        """The SSE bytes for the client: the upstream's events, then ``[DONE]``.

        A failure after the first byte cannot change the status any more: it becomes
        an error event, then ``[DONE]``, and the stream closes.
        """
        usage: Usage | None = None
        try:
            chunk: Chunk | None = start.first
            while chunk is not None:
                if chunk.data.get("usage"):
                    usage = Usage.from_body(chunk.data["usage"]) or usage
                usage_only = not chunk.data.get("choices") and chunk.data.get("usage")
                if include_usage or not usage_only:
                    yield b"data: " + chunk.raw + b"\n\n"
                chunk = await anext(start.rest, None)
            yield DONE
        except UpstreamError as exc:
            message = self.scrub(exc.message)
            log.warning("request %s: stream broke after it started: %s", ctx.request_id, message)
            body = error_body(f"upstream stream failed: {message}", "upstream_error", None, "stream_interrupted")
            yield b"data: " + orjson.dumps(body) + b"\n\n"
            yield DONE
        finally:
            self._account(ctx, usage)
            closer = getattr(start.rest, "aclose", None)
            if closer is not None:
                await closer()
