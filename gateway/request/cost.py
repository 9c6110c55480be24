"""Prices and cost: what a call cost, priced per tier.

A tier's ``price`` in the config overrides litellm's bundled cost map; without it
the tier's model is looked up in that map once, at start-up (litellm is imported
only then). A model the map does not know and no ``price`` is a config error: a
gateway that cannot price a call cannot be honest about cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from gateway.settings import ConfigError, Price, Tier


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @classmethod
    def from_body(cls, usage: object) -> Usage | None:
        """Read an OpenAI ``usage`` object; ``None`` if absent or malformed."""
        if not isinstance(usage, Mapping):
            return None
        prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
        if not isinstance(prompt, int) or not isinstance(completion, int):
            return None
        return cls(prompt, completion)


def cost_usd(price: Price, usage: Usage) -> float:
    return (usage.prompt_tokens * price.input_per_mtok + usage.completion_tokens * price.output_per_mtok) / 1e6


def resolve_price(name: str, tier: Tier) -> Price:
    """The tier's configured price, else litellm's bundled price for its model."""
    if tier.price is not None:
        return tier.price
    import litellm

    try:
        info: Mapping[str, Any] = litellm.get_model_info(tier.model)
    except Exception as exc:  # litellm raises bare Exception for unmapped models
        raise ConfigError(
            f"tiers.{name}.price: model {tier.model!r} is not in litellm's cost map; set price explicitly"
        ) from exc
    per_token_in = float(info.get("input_cost_per_token") or 0.0)
    per_token_out = float(info.get("output_cost_per_token") or 0.0)
    return Price(input_per_mtok=per_token_in * 1e6, output_per_mtok=per_token_out * 1e6)
