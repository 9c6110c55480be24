"""OpenTelemetry's GenAI semantic-convention values for our calls (``gen_ai.*`` span attributes)."""

from __future__ import annotations

from gateway.tracing import Span
from gateway.upstream.base import Target

OPERATIONS: dict[str, str] = {"completions": "text_completion", "embeddings": "embeddings"}  # the rest: chat


def operation(api: str) -> str:
    """``gen_ai.operation.name`` of an endpoint or upstream API."""
    return OPERATIONS.get(api, "chat")


def system(model: str) -> str | None:
    """``gen_ai.system``: the provider prefix of a litellm model string (``openai/gpt-4o`` → ``openai``)."""
    provider, slash, _ = model.partition("/")
    return provider if slash else None


def attempt_attributes(span: Span, target: Target, api: str, tier_attempt: int, attempt: int) -> None:
    """One upstream attempt's span: what was asked of which tier, the how-many-th time."""
    span.set("gen_ai.operation.name", operation(api))
    span.set("gen_ai.request.model", target.tier.model)
    span.set("gen_ai.system", system(target.tier.model))
    span.set("triage.tier", target.name)
    span.set("triage.attempt", tier_attempt)  # 1: the tier's first try; 2: its first retry...
    span.set("triage.attempt_overall", attempt)  # counted over the whole chain, fallbacks included
