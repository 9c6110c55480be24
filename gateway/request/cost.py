"""Prices and cost: what a call cost, priced per tier.

A tier's ``price`` in the config overrides litellm's bundled cost map; without it
the tier's model is looked up in that map once, at start-up (``request.model_map``:
litellm itself is imported only for tiers of other providers than OpenAI's). A model
the map does not know and no ``price`` is a config error: a gateway that cannot price
a call cannot be honest about cost.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from gateway.request import model_map
from gateway.settings import ConfigError, Price, Tier


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @classmethod
    def from_body(cls, usage: object) -> Usage | None:
        """Read an OpenAI ``usage`` object; ``None`` if absent or malformed.

        Without ``completion_tokens`` (embeddings report only prompt and total tokens) the
        completion is ``total_tokens - prompt_tokens``; without either it is malformed.
        """
        if not isinstance(usage, Mapping):
            return None
        prompt, completion, total = (
            usage.get("prompt_tokens"),
            usage.get("completion_tokens"),
            usage.get("total_tokens"),
        )
        if completion is None and isinstance(total, int) and isinstance(prompt, int) and total >= prompt:
            completion = total - prompt
        if not isinstance(prompt, int) or not isinstance(completion, int):
            return None
        return cls(prompt, completion)


def cost_usd(price: Price, usage: Usage) -> float:
    return (usage.prompt_tokens * price.input_per_mtok + usage.completion_tokens * price.output_per_mtok) / 1e6


def resolve_capabilities(tier: Tier) -> frozenset[str]:
    """The tier's declared capabilities, else litellm's model map's, else text + tools.

    A self-hosted model litellm does not know (``openai/<anything>`` on vLLM) is assumed to
    take tools but not images or JSON schemas: declare more in the config when it does.
    """
    if tier.capabilities is not None:
        return frozenset(tier.capabilities)
    info = model_map.lookup(tier.model)
    if info is None:
        return frozenset({"tools"})
    found = {"tools"} if info.get("supports_function_calling") is not False else set()
    if info.get("supports_vision"):
        found.add("images")
    if info.get("supports_response_schema"):
        found.add("json_schema")
    if info.get("mode") == "completion":
        found.add("completions")  # a text-completion model (gpt-3.5-turbo-instruct, ...)
    return frozenset(found)


def resolve_price(name: str, tier: Tier) -> Price:
    """The tier's configured price, else litellm's bundled price for its model."""
    if tier.price is not None:
        return tier.price
    info = model_map.lookup(tier.model)
    if info is None:
        raise ConfigError(
            f"tiers.{name}.price: model {tier.model!r} is not in litellm's cost map; set price explicitly"
        )
    per_token_in = float(info.get("input_cost_per_token") or 0.0)
    per_token_out = float(info.get("output_cost_per_token") or 0.0)
    return Price(input_per_mtok=per_token_in * 1e6, output_per_mtok=per_token_out * 1e6)
