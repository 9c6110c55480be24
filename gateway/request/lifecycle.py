"""``RequestLifecycle``: the one owner of a chat request, from admission to settled and recorded.

The handler makes one per request and calls ``admit``, then ``complete`` or ``stream``,
and — on every path: success, a client or upstream error, an unexpected error, a
client that goes away mid-stream, a stream that never started — ``finish(status)``.
``finish`` runs once (later calls do nothing) and, in this order, closes a relayed
stream and counts what it produced, settles the budget reservations to the actual
cost, corrects the TPM estimate by the tokens used, and records the request (metrics
and the request log). ``complete`` and ``stream`` share the lookup → route prefix.

The steps return values (``gateway.request.values``); the lifecycle keeps them as
they arrive — ``admitted``, ``looked``, ``routed``, ``answered`` and the call trace —
and nothing else writes to it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.cache.entry import StreamAssembler, replay_events
from gateway.cache.policy import CacheControl
from gateway.cache.text_entry import TextAssembler, is_text_completion, replay_text_events
from gateway.protocol.responses_native import NativeStream, chat_usage, response_text
from gateway.protocol.responses_native import chat_completion as native_chat
from gateway.protocol.schemas import ChatCompletionRequest
from gateway.request.admission import admit, settle_tokens
from gateway.request.auth import Principal
from gateway.request.pipeline import Pipeline, completion_text
from gateway.request.span_attributes import end_request, start_request
from gateway.request.streaming import DONE, StreamRelay
from gateway.request.values import Admitted, Answered, Endpoint, Looked, RequestRecord, Routed, new_request_id
from gateway.settings import Settings
from gateway.state.ratelimit import RateLimiter
from gateway.tracing import NOOP_SPAN, Span
from gateway.upstream.base import Api, UpstreamError
from gateway.upstream.caller import CallTrace

Recorder = Callable[[RequestRecord], None]


@dataclass(frozen=True, slots=True)
class Response:
    """What the handler sends: a whole body, or SSE events; headers either way."""

    headers: dict[str, str]
    body: bytes | None = None
    events: AsyncIterator[bytes] | None = None
    native: bool = False  # the upstream's own Responses API answer, relayed as it came


class RequestLifecycle:
    def __init__(
        self,
        pipeline: Pipeline,
        limiter: RateLimiter,
        settings: Settings,
        recorder: Recorder,
        control: CacheControl,
        tier_header: str | None,
        client_request_id: str | None = None,
        endpoint: Endpoint = "chat",
        conversation: str | None = None,
        span: Span = NOOP_SPAN,
    ) -> None:
        self.request_id = new_request_id(client_request_id)
        self.endpoint: Endpoint = endpoint
        # legacy completions and embeddings go upstream as themselves; the rest arrive here as chat
        self._api: Api = "chat"
        if endpoint == "completions" or endpoint == "embeddings":
            self._api = endpoint
        self._upstream: Mapping[str, Any] | None = None
        self._native: Mapping[str, Any] | None = None
        self.started = time.perf_counter()
        self._pipeline, self._limiter, self._settings, self._recorder = pipeline, limiter, settings, recorder
        self._control, self._tier_header = control, tier_header
        self._conversation = conversation  # the client's x-triage-conversation header (sticky profiles)
        self.stream = False
        self.prompt: str | None = None
        self.admitted = Admitted()
        self.looked: Looked | None = None
        self.routed: Routed | None = None
        self.answered: Answered | None = None
        self.span = span  # the request's root span: ended, annotated, when the request is recorded
        start_request(span, endpoint, self.request_id)
        self.trace = CallTrace(span=span)
        self._relay: StreamRelay | None = None
        self._raw: Mapping[str, Any] | None = None
        self._answer_text: str | None = None
        self._finishing: asyncio.Future[None] | None = None

    async def admit(
        self,
        principal: Principal,
        chat: ChatCompletionRequest,
        raw: Mapping[str, Any],
        upstream: Mapping[str, Any] | None = None,
        native: Mapping[str, Any] | None = None,
    ) -> None:
        """Authenticate-then-admit; ``raw`` is the chat view routers, tokens and limits read.

        ``upstream`` is the body sent to the tier when it is not ``raw`` itself (a legacy
        completion: routed on its prompt as a user message, sent as the completion it is).
        ``native`` is a Responses request, relayed as it is when every tier of the route
        speaks that API itself (else ``raw``, its chat translation, is sent).
        """
        self.stream = chat.stream
        self._upstream, self._native = upstream, native
        if self._settings.log_prompts:
            self.prompt = _last_user_text(chat)
        self.admitted = await admit(principal, chat, raw["messages"], self._settings, self._limiter)

    async def _prefix(self, chat: ChatCompletionRequest, raw: Mapping[str, Any]) -> Looked:
        """Look up the cache and, on a miss, route (reserving budget)."""
        self._raw = raw
        with self.span.child("triage.cache.lookup") as span:
            self.looked = looked = await self._pipeline.lookup(
                chat, self._sent(raw), self.admitted.namespace, self._control, self._tier_header, self._api
            )
            span.set("triage.cache", looked.status)
        if looked.entry is not None:
            self.answered = self._pipeline.from_cache(looked, looked.entry)
        else:
            self.routed = await self._pipeline.route(
                chat, raw, self.admitted, self._tier_header, self._api, self._conversation, self.span
            )
            if self._native is not None and self._pipeline.speaks_responses(self.routed.decision.chain):
                self._api, self._upstream = "responses", self._native
        return looked

    async def complete(self, chat: ChatCompletionRequest, raw: Mapping[str, Any]) -> Response:
        looked = await self._prefix(chat, raw)
        if looked.entry is not None:
            return Response(self.headers(), body=orjson.dumps(looked.entry.body))
        assert self.routed is not None
        try:
            target, completion = await self._pipeline.call(self.routed, self._sent(raw), self.trace, self._api)
        except UpstreamError as exc:
            error = self._pipeline.failed(exc, self.trace, self.request_id)
            error.headers.update(self.headers())
            raise error from None
        data = completion.data
        native = self._api == "responses"
        self._answer_text = response_text(data) if native else completion_text(data)
        reported = chat_usage(data.get("usage")) if native else data.get("usage")
        usage = self._pipeline.usage(raw, reported, self._answer_text)
        self.answered = self._pipeline.answered(target, looked, usage)
        stored = native_chat(data) if native else data  # cache entries are chat completions
        if stored is not None:
            with self.span.child("triage.cache.store"):
                await self._pipeline.save(looked.plan, stored, self.answered)
        body = completion.raw if completion.raw is not None else orjson.dumps(data)
        return Response(self.headers(), body=body, native=native)

    async def stream_response(self, chat: ChatCompletionRequest, raw: Mapping[str, Any]) -> Response:
        looked = await self._prefix(chat, raw)
        if looked.entry is not None:
            return Response(self.headers(), events=_replay(looked.entry.body, chat.include_usage))
        assert self.routed is not None
        try:
            start = await self._pipeline.open_stream(self.routed, self._sent(raw), self.trace, self._api)
        except UpstreamError as exc:
            error = self._pipeline.failed(exc, self.trace, self.request_id)
            error.headers.update(self.headers())
            raise error from None
        assembler: StreamAssembler | TextAssembler | NativeStream = StreamAssembler()
        if self._api == "completions":
            assembler = TextAssembler()
        elif self._api == "responses":
            assembler = NativeStream()
        self._relay = StreamRelay(
            self._pipeline, start, looked, raw, chat.include_usage, self.started, self.request_id, assembler, self.span
        )
        self.answered = self._pipeline.answered(start.target, looked, None)  # the tier, for the headers
        return Response(self.headers(), events=self._relay.events(), native=self._api == "responses")

    async def finish(self, status: int) -> None:
        """Close, settle and record, exactly once (the first call's status counts).

        The work runs in its own task and is awaited shielded: a client that goes away
        cancels the response, never the settlement.
        """
        if self._finishing is None:
            self._finishing = asyncio.ensure_future(self._finish(status))
        await asyncio.shield(self._finishing)

    async def _finish(self, status: int) -> None:
        try:
            if self._relay is not None:
                self.answered = await self._relay.finish()
                self._answer_text = self._relay.text()
            cost = self.answered.cost if self.answered is not None else None
            if self.routed is not None:
                await self._pipeline.settle(self.routed.reservations, cost)
            await settle_tokens(self._limiter, self.admitted, self._tokens_used())
        finally:
            record = self.record(status)
            try:
                self._recorder(record)
            finally:
                end_request(self.span, record)

    def _tokens_used(self) -> int:
        answered = self.answered
        if answered is None or answered.usage is None or self.routed is None:
            return 0  # a cache hit or a failure used no upstream tokens
        return answered.usage.prompt_tokens + answered.usage.completion_tokens

    def record(self, status: int) -> RequestRecord:
        return RequestRecord(
            request_id=self.request_id,
            status=status,
            elapsed_s=time.perf_counter() - self.started,
            stream=self.stream,
            admitted=self.admitted,
            looked=self.looked,
            routed=self.routed,
            answered=self.answered,
            trace=self.trace,
            prompt=self.prompt,
            payload=self._raw,
            answer_text=self._answer_text,
            endpoint=self.endpoint,
        )

    def _sent(self, raw: Mapping[str, Any]) -> Mapping[str, Any]:
        return raw if self._upstream is None else self._upstream

    def headers(self) -> dict[str, str]:
        """The ``x-triage-*`` response headers from what is known so far."""
        headers = {"x-triage-request-id": self.request_id, "x-request-id": self.request_id, **self.admitted.headers}
        looked, routed, answered = self.looked, self.routed, self.answered
        if looked is not None:
            headers["x-triage-cache"] = looked.status.replace("_", "-")  # semantic_hit → semantic-hit
            if looked.entry is not None and looked.entry.similarity is not None:
                headers["x-triage-cache-similarity"] = f"{looked.entry.similarity:.4f}"
        if routed is not None and routed.score is not None:
            headers["x-triage-score"] = f"{routed.score.value:.4f}"
        if looked is not None and looked.status in ("hit", "semantic_hit"):
            headers["x-triage-reason"] = "cache hit" if looked.status == "hit" else "semantic cache hit"
        elif routed is not None:
            reason = routed.decision.detail
            if routed.score is not None and routed.score.ood:
                reason += "; ood"  # the prompt is unlike the router's training data
            if answered is not None and answered.tier != routed.decision.tier:
                reason += f"; fell back from {routed.decision.tier} to {answered.tier}"
            headers["x-triage-reason"] = reason
        if answered is not None:
            headers["x-triage-tier"] = answered.tier
            headers["x-triage-model"] = answered.model
            if answered.cost is not None:
                headers["x-triage-cost-usd"] = f"{answered.cost:.8f}"
        return headers


def _last_user_text(chat: ChatCompletionRequest) -> str:
    for message in reversed(chat.messages):
        if message.role == "user":
            return message.text
    return ""


async def _replay(body: dict[str, Any], include_usage: bool) -> AsyncIterator[bytes]:
    replay = replay_text_events if is_text_completion(body) else replay_events
    for event in replay(body, include_usage):
        yield event
    yield DONE
