"""Admission: what a caller may send, before the pipeline runs.

Size limits on the parsed request (messages, content), the API key's allowed
profiles and tiers, its rate limits (RPM/TPM, atomic across replicas) and the
budgets that apply (global and the key's own).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from gateway.protocol.errors import Forbidden, InvalidRequest, RateLimited
from gateway.protocol.schemas import ChatCompletionRequest
from gateway.request.auth import Principal
from gateway.request.tokens import estimate_prompt_tokens, output_tokens
from gateway.request.values import Admitted
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


async def admit(
    principal: Principal,
    chat: ChatCompletionRequest,
    messages: Sequence[Mapping[str, Any]],
    settings: Settings,
    limiter: RateLimiter,
) -> Admitted:
    """Apply the key's permissions, rate limits and budgets; what applies to the request."""
    budgets: list[tuple[str, float]] = []
    if settings.budget.limit_usd is not None:
        budgets.append(("global", settings.budget.limit_usd))
    key = principal.key
    if key is None:
        return Admitted(principal.namespace, budgets=tuple(budgets))
    if key.profiles is not None and chat.model in settings.profiles and chat.model not in key.profiles:
        raise Forbidden(f"this API key may not use model '{chat.model}'", param="model", code="model_not_allowed")
    # naming a tier: allowed by an explicit tier list; a key limited to profiles without one names none
    if chat.model in settings.tiers and (
        (key.tiers is not None and chat.model not in key.tiers) or (key.tiers is None and key.profiles is not None)
    ):
        raise Forbidden(f"this API key may not use tier '{chat.model}'", param="model", code="tier_not_allowed")
    allowed = frozenset(key.tiers) if key.tiers is not None else None
    if key.max_n is not None and (chat.n or 1) > key.max_n:
        raise InvalidRequest(f"n: this API key allows at most {key.max_n} choices per request", param="n")
    if key.budget_usd is not None:
        budgets.append((f"key:{key.id}", key.budget_usd))
    admitted = Admitted(principal.namespace, key.id, allowed, tuple(budgets), key.outcomes_opt_out)
    if not key.rpm and not key.tpm:
        return admitted
    max_tokens = chat.max_completion_tokens or chat.max_tokens
    tokens = estimate_prompt_tokens(messages) + output_tokens(
        max_tokens, settings.budget.expected_output_tokens, chat.n
    )
    if key.tpm and tokens > key.tpm:
        # waiting cannot help: a 400, not a 429 with a Retry-After
        raise InvalidRequest(
            f"this request needs about {tokens} tokens (prompt plus max tokens), more than this API key's "
            f"limit of {key.tpm} tokens per minute; lower max_tokens or shorten the prompt",
            param="max_tokens",
            code="tokens_exceed_limit",
        )
    verdict = await limiter.admit(key.id, key.rpm, key.tpm, tokens)
    if not verdict.allowed:
        error = RateLimited(
            f"rate limit reached: {verdict.limited_by} per minute for this key; retry after "
            f"{verdict.headers()['Retry-After']} s"
        )
        error.headers.update(verdict.headers())
        raise error
    return replace(admitted, tokens=tokens, headers=verdict.headers())


async def settle_tokens(limiter: RateLimiter, admitted: Admitted, used: int) -> None:
    """Correct the TPM estimate counted at admission by the tokens actually used."""
    if admitted.key_id is None or not admitted.tokens:
        return
    await limiter.correct(admitted.key_id, used - admitted.tokens)
