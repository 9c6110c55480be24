"""What a request's spans carry: OpenTelemetry's GenAI conventions where they exist, ``triage.*`` beside.

No prompt or answer text, ever, unless ``log_prompts`` is on (then the last user message,
as the request log has it, goes on the root span as ``triage.prompt``).
"""

from __future__ import annotations

from gateway.request.values import Endpoint, RequestRecord
from gateway.tracing import Span
from gateway.upstream.genai import operation, system


def start_request(span: Span, endpoint: Endpoint, request_id: str) -> None:
    span.set("triage.endpoint", endpoint)
    span.set("gen_ai.operation.name", operation(endpoint))
    span.set("triage.request_id", request_id)


def end_request(span: Span, record: RequestRecord) -> None:
    """Annotate the root span from the finished request, then end it."""
    span.set("http.response.status_code", record.status)
    span.set("triage.stream", record.stream)
    if record.looked is not None:
        span.set("gen_ai.request.model", record.looked.profile)
        span.set("triage.cache", record.looked.status)
    if record.routed is not None:
        decision = record.routed.decision
        span.set("triage.reason", decision.reason)
        span.set("triage.reason_detail", decision.detail)
        span.set("triage.routed_tier", decision.tier)
        if record.routed.score is not None:
            span.set("triage.score", record.routed.score.value)
            span.set("triage.router", record.routed.score.router)
    answered = record.answered
    if answered is not None:
        span.set("triage.tier", answered.tier)
        span.set("gen_ai.response.model", answered.model)
        span.set("gen_ai.system", system(answered.model))
        if answered.usage is not None:
            span.set("gen_ai.usage.input_tokens", answered.usage.prompt_tokens)
            span.set("gen_ai.usage.output_tokens", answered.usage.completion_tokens)
        if answered.cost is not None:
            span.set("triage.cost_usd", answered.cost)
    span.set("triage.attempts", record.trace.attempts)
    span.set("triage.retries", record.trace.retries)
    span.set("triage.fallbacks", record.trace.fallbacks)
    if record.prompt is not None:
        span.set("triage.prompt", record.prompt)  # only with log_prompts (the record has no prompt otherwise)
    if record.status >= 500:
        span.fail(str(record.status))
    span.end()
