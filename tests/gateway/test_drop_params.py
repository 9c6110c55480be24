"""A tier's drop_params: those body fields never reach it; other tiers get the body as it came."""

from __future__ import annotations

from gateway.settings import Price, Tier
from gateway.upstream.base import Target
from gateway.upstream.drop import for_tier

PRICE = Price(input_per_mtok=1, output_per_mtok=1)


def target(drop: frozenset[str] = frozenset()) -> Target:
    return Target("t", Tier(model="openai/m", drop_params=drop), PRICE, None, frozenset())


def test_dropped_fields_are_removed_and_the_rest_kept() -> None:
    body = {"messages": [], "temperature": 0.2, "top_p": 0.9, "reasoning_effort": "high"}
    assert for_tier(body, target(frozenset({"temperature", "top_p"}))) == {"messages": [], "reasoning_effort": "high"}
    assert body["temperature"] == 0.2  # the client's body is not changed for the other tiers


def test_without_drop_params_the_body_is_passed_as_it_is() -> None:
    body = {"messages": [], "temperature": 0.2}
    assert for_tier(body, target()) is body
    assert for_tier(body, target(frozenset({"seed"}))) is body
