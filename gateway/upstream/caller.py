"""Retries, deadlines and fallbacks around the transports.

For each tier in a route's chain: up to ``max_retries`` retries with exponential
backoff and jitter (tenacity) on retryable errors, honouring ``Retry-After``, never
past the request's deadline. When a tier is exhausted, the next tier in the chain
is tried. A client error (a 4xx other than 429) is not retried and does not fall
back: another tier would refuse the same request. A stream is retried and falls
back only until its first chunk arrives, before anything reached the client.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, wait_exponential_jitter

from gateway.tracing import NOOP_SPAN, Span
from gateway.upstream.base import Api, Chunk, Completion, Target, Transport, UpstreamError
from gateway.upstream.drop import for_tier
from gateway.upstream.genai import attempt_attributes, operation

T = TypeVar("T")
log = logging.getLogger("triage.upstream")
Observer = Callable[[str, bool, float], None]  # (tier, ok, wall-clock now): feeds the circuit breakers

MAX_RETRY_AFTER_S = 10.0


@dataclass(slots=True)
class CallTrace:
    """What happened on the way to an answer: for headers, logs and metrics."""

    attempts: int = 0
    tiers: list[str] = field(default_factory=list)  # each tier tried, in order
    calls: list[str] = field(default_factory=list)  # the tier of each attempt, in order
    errors: list[tuple[str, str]] = field(default_factory=list)  # (tier, error kind) of each failed attempt
    upstream_s: float = 0.0
    span: Span = NOOP_SPAN  # the request's span: each attempt is a child span of it

    @property
    def retries(self) -> int:
        return max(self.attempts - len(self.tiers), 0)

    def retries_by_tier(self) -> dict[str, int]:
        return {tier: self.calls.count(tier) - 1 for tier in self.tiers if self.calls.count(tier) > 1}

    @property
    def fallbacks(self) -> int:
        return max(len(self.tiers) - 1, 0)


@dataclass(frozen=True, slots=True)
class StreamStart:
    """A stream whose first chunk has arrived: from here on it can no longer fall back."""

    target: Target
    first: Chunk
    rest: AsyncIterator[Chunk]


def _retryable(exc: BaseException) -> bool:
    return isinstance(exc, UpstreamError) and exc.retryable


class RetryBudget:
    """Retries per tier limited to ``ratio`` per request on average (plus a burst of 10).

    Every request adds ``ratio`` tokens, every retry spends one: when a tier is failing
    for everyone, retries stop multiplying its load (the breaker and fallbacks take over).
    """

    def __init__(self, ratio: float, burst: float = 10.0) -> None:
        self.ratio, self.burst = ratio, burst
        self.tokens = burst

    def on_request(self) -> None:
        self.tokens = min(self.burst, self.tokens + self.ratio)

    def try_spend(self) -> bool:
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return True
        return False


class UpstreamCaller:
    """Calls a chain of tiers with retries and fallbacks."""

    def __init__(
        self, targets: Mapping[str, Target], transports: Mapping[str, Transport], observer: Observer | None = None
    ) -> None:
        self.targets = dict(targets)
        self._transports = dict(transports)
        self._backoff = wait_exponential_jitter(multiplier=0.05, max=2.0, jitter=0.05)
        self._observer = observer
        self._retry_budgets = {name: RetryBudget(t.tier.retry_budget_ratio) for name, t in self.targets.items()}

    def transport_for(self, target: Target) -> Transport:
        return self._transports[target.tier.resolved_transport]

    async def complete(
        self, chain: Sequence[str], payload: Mapping[str, Any], deadline: float, trace: CallTrace, api: Api = "chat"
    ) -> tuple[Target, Completion]:
        async def call(target: Target, timeout_s: float) -> Completion:
            return await self.transport_for(target).complete(target, for_tier(payload, target), timeout_s, api)

        return await self._over_chain(chain, deadline, trace, call, api)

    async def open_stream(
        self, chain: Sequence[str], payload: Mapping[str, Any], deadline: float, trace: CallTrace, api: Api = "chat"
    ) -> StreamStart:
        async def call(target: Target, timeout_s: float) -> StreamStart:
            chunks = aiter(self.transport_for(target).stream(target, for_tier(payload, target), timeout_s, api))
            try:
                first = await anext(chunks)
            except StopAsyncIteration:
                raise UpstreamError("bad_response", f"{target.name}: empty stream") from None
            return StreamStart(target, first, chunks)

        _, start = await self._over_chain(chain, deadline, trace, call, api)
        return start

    async def _over_chain(
        self,
        chain: Sequence[str],
        deadline: float,
        trace: CallTrace,
        call: Callable[[Target, float], Awaitable[T]],
        api: Api = "chat",
    ) -> tuple[Target, T]:
        last: UpstreamError | None = None
        for name in chain:
            target = self.targets[name]
            trace.tiers.append(name)
            try:
                return target, await self._with_retries(target, deadline, trace, call, api)
            except UpstreamError as exc:
                if not exc.retryable:
                    raise
                last = exc
            if time.monotonic() >= deadline:
                break
        assert last is not None, "a route chain is never empty"
        raise last

    async def _with_retries(
        self,
        target: Target,
        deadline: float,
        trace: CallTrace,
        call: Callable[[Target, float], Awaitable[T]],
        api: Api = "chat",
    ) -> T:
        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, UpstreamError) and exc.retry_after is not None:
                return min(exc.retry_after, MAX_RETRY_AFTER_S)
            return float(self._backoff(state))

        budget = self._retry_budgets[target.name]
        budget.on_request()

        def stop(state: RetryCallState) -> bool:
            out_of_time = time.monotonic() + (state.upcoming_sleep or 0.0) >= deadline
            if state.attempt_number > target.tier.max_retries or out_of_time:
                return True
            if not budget.try_spend():
                log.warning("tier %s: retry budget spent, not retrying", target.name)
                return True
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, UpstreamError) and exc.maybe_charged:
                log.warning(
                    "retrying tier %s after a %s: the failed attempt may already have been charged",
                    target.name,
                    exc.kind,
                )
            return False

        retrying = AsyncRetrying(stop=stop, wait=wait, retry=retry_if_exception(_retryable), reraise=True)
        async for attempt in retrying:
            with attempt:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise UpstreamError("timeout", f"{target.name}: request deadline passed")
                trace.attempts += 1
                trace.calls.append(target.name)
                started = time.perf_counter()
                # a client span per attempt, current while it runs: the transport sends its traceparent
                with trace.span.child(f"{operation(api)} {target.tier.model}", client=True) as span:
                    attempt_attributes(span, target, api, attempt.retry_state.attempt_number, trace.attempts)
                    try:
                        result = await call(target, min(target.tier.timeout_s, remaining))
                    except UpstreamError as exc:
                        span.fail(exc.kind)
                        trace.errors.append((target.name, exc.kind))
                        if exc.retryable and self._observer is not None:
                            self._observer(target.name, False, time.time())
                        raise
                    finally:
                        trace.upstream_s += time.perf_counter() - started
                if self._observer is not None:
                    self._observer(target.name, True, time.time())
                return result
        raise AssertionError("unreachable: tenacity reraises the last error")
