"""Admission: what a caller may send, before the pipeline runs.

Size limits on the parsed request (messages, content), the API key's allowed
profiles and tiers, its rate limits (RPM/TPM, atomic across replicas) and the
budgets that apply (global and the key's own).
"""

from __future__ import annotations

from gateway.protocol.errors import Forbidden, InvalidRequest, RateLimited
from gateway.protocol.schemas import ChatCompletionRequest
from gateway.request.auth import Principal
from gateway.request.state import RequestContext
from gateway.settings import Settings
from gateway.state.ratelimit import RateLimiter


def check_limits(chat: ChatCompletionRequest, settings: Settings) -> None:
    limits = settings.limits
    if len(chat.messages) > limits.max_messages:
        raise InvalidRequest(f"messages: at most {limits.max_messages} messages", param="messages")
    for index, message in enumerate(chat.messages):
        if len(message.text) > limits.max_content_chars:
            raise InvalidRequest(
                f"messages.{index}.content: at most {limits.max_content_chars} characters", param=f"messages.{index}"
            )


def estimate_tokens(chat: ChatCompletionRequest, expected_output: int) -> int:
    """A cheap admission estimate: text bytes / 4 plus the requested (or expected) output."""
    text = sum(len(message.text) for message in chat.messages)
    return text // 4 + (chat.max_completion_tokens or chat.max_tokens or expected_output)


async def admit(
    principal: Principal, chat: ChatCompletionRequest, settings: Settings, limiter: RateLimiter, ctx: RequestContext
) -> dict[str, str]:
    """Apply the key's permissions, rate limits and budgets; return the rate-limit headers."""
    ctx.namespace = principal.namespace
    if settings.budget.limit_usd is not None:
        ctx.budgets.append(("global", settings.budget.limit_usd))
    key = principal.key
    if key is None:
        return {}
    ctx.key_id = key.id
    if key.profiles is not None and chat.model in settings.profiles and chat.model not in key.profiles:
        raise Forbidden(f"this API key may not use model '{chat.model}'", param="model", code="model_not_allowed")
    if key.tiers is not None:
        if chat.model in settings.tiers and chat.model not in key.tiers:
            raise Forbidden(f"this API key may not use tier '{chat.model}'", param="model", code="tier_not_allowed")
        ctx.allowed_tiers = frozenset(key.tiers)
    if key.budget_usd is not None:
        ctx.budgets.append((f"key:{key.id}", key.budget_usd))
    if not key.rpm and not key.tpm:
        return {}
    ctx.admitted_tokens = estimate_tokens(chat, settings.budget.expected_output_tokens)
    verdict = await limiter.admit(key.id, key.rpm, key.tpm, ctx.admitted_tokens)
    if not verdict.allowed:
        ctx.admitted_tokens = 0
        error = RateLimited(
            f"rate limit reached: {verdict.limited_by} per minute for this key; retry after "
            f"{verdict.headers()['Retry-After']} s"
        )
        error.headers.update(verdict.headers())
        raise error
    return verdict.headers()


async def settle_tokens(limiter: RateLimiter, ctx: RequestContext) -> None:
    """Correct the TPM estimate by the tokens actually used."""
    if ctx.key_id is None or not ctx.admitted_tokens:
        return
    used = ctx.usage.prompt_tokens + ctx.usage.completion_tokens if ctx.usage and ctx.cache_status != "hit" else 0
    await limiter.correct(ctx.key_id, used - ctx.admitted_tokens)
    ctx.admitted_tokens = 0
