"""Ladder, sticky and drop_params config: what is accepted, and every problem named by its field."""

from __future__ import annotations

from typing import Any

import pytest

from gateway.settings import ConfigError, parse_settings

TIER = {"model": "openai/m", "api_base": "http://127.0.0.1:9/v1", "price": {"input_per_mtok": 1, "output_per_mtok": 1}}
TIERS = {name: dict(TIER) for name in ("cheap", "frontier", "small", "mid", "big")}
TIERS["vec"] = {**TIER, "kind": "embeddings"}
TIERS["thinker"] = {**TIER, "kind": "reasoning", "drop_params": ["temperature", "top_p"]}
LADDER = [{"tier": "small", "share": 0.55}, {"tier": "mid", "share": 0.30}, {"tier": "big", "share": 0.15}]


def settings(profile: dict[str, Any]) -> Any:
    return parse_settings({"tiers": TIERS, "profiles": {"p": profile}})


def problems(profile: dict[str, Any]) -> str:
    with pytest.raises(ConfigError) as caught:
        settings(profile)
    return str(caught.value)


def test_a_ladder_fills_the_two_tier_fields_from_its_ends() -> None:
    profile = settings({"ladder": LADDER, "sticky": {"ttl_s": 60}}).profiles["p"]
    assert (profile.cheap_tier, profile.frontier_tier, profile.frontier_share) == ("small", "big", 0.15)
    assert [rung.tier for rung in profile.ladder] == ["small", "mid", "big"]
    assert profile.sticky is not None and profile.sticky.ttl_s == 60 and profile.sticky.max_conversations == 100_000
    again = settings(profile.model_dump())  # a dumped profile loads again (its ends agree with its ladder)
    assert again.profiles["p"] == profile


def test_two_tier_profiles_are_unchanged() -> None:
    profile = settings({"frontier_share": 0.2}).profiles["p"]
    assert profile.ladder is None and profile.sticky is None
    assert (profile.cheap_tier, profile.frontier_tier, profile.frontier_share) == ("cheap", "frontier", 0.2)


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ({"ladder": LADDER[:1]}, "ladder: needs at least two rungs"),
        ({"ladder": [*LADDER, {"tier": "mid", "share": 0.0}]}, "tier(s) mid appear more than once"),
        ({"ladder": [{"tier": "small", "share": 0.5}, {"tier": "big", "share": 0.4}]}, "add up to 0.9"),
        (
            {"ladder": [{"tier": "small", "share": 0.5}, {"tier": "nope", "share": 0.5}]},
            "ladder[1].tier: no tier named 'nope'",
        ),
        (
            {"ladder": [{"tier": "vec", "share": 0.5}, {"tier": "big", "share": 0.5}]},
            "ladder[0].tier: 'vec' is an embeddings",
        ),
        ({"ladder": LADDER, "frontier_share": 0.3}, "frontier_share: 0.3 disagrees with the ladder (0.15)"),
        ({"ladder": LADDER, "cheap_tier": "cheap"}, "cheap_tier: 'cheap' disagrees with the ladder ('small')"),
        ({"ladder": [{"tier": "small", "share": 1.5}, {"tier": "big", "share": -0.5}]}, "share"),
        ({"sticky": {"ttl_s": 0}}, "sticky.ttl_s"),
    ],
)
def test_a_bad_ladder_or_sticky_section_names_its_field(profile: dict[str, Any], message: str) -> None:
    assert message in problems(profile)


def test_drop_params_are_kept_per_tier_and_may_not_drop_the_request() -> None:
    loaded = parse_settings({"tiers": TIERS})
    assert loaded.tiers["thinker"].drop_params == frozenset({"temperature", "top_p"})
    assert loaded.tiers["cheap"].drop_params == frozenset()
    with pytest.raises(ConfigError, match=r"tiers\.cheap\.drop_params.*cannot drop messages"):
        parse_settings({"tiers": {**TIERS, "cheap": {**TIER, "drop_params": ["messages"]}}})
