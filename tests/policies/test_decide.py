"""The route decision, table-driven."""

from __future__ import annotations

import pytest

from policies.decide import decide
from policies.types import NoEligibleRoute, ProfileView, RouteInputs, TierView

TIERS = {
    "cheap": TierView("cheap", "openai/sim-cheap"),
    "frontier": TierView("frontier", "openai/sim-frontier"),
    "backup": TierView("backup", "openai/backup", fallbacks=("cheap", "frontier")),
    "lonely": TierView("lonely", "openai/lonely"),
}
AUTO = ProfileView("auto", "cheap", "frontier", threshold=0.5)


@pytest.mark.parametrize(
    ("inputs", "tier", "reason", "fallbacks"),
    [
        (RouteInputs(profile=AUTO, score=0.2), "cheap", "score_below_threshold", ("frontier",)),
        (RouteInputs(profile=AUTO, score=0.5), "frontier", "score_above_threshold", ("cheap",)),
        (RouteInputs(profile=AUTO, score=0.9), "frontier", "score_above_threshold", ("cheap",)),
        (RouteInputs(pinned_tier="cheap"), "cheap", "pinned", ("frontier",)),
        (RouteInputs(pinned_tier="frontier"), "frontier", "pinned", ("cheap",)),
        (RouteInputs(pinned_tier="backup"), "backup", "pinned", ("cheap", "frontier")),
        (RouteInputs(pinned_tier="lonely"), "lonely", "pinned", ()),
        (RouteInputs(pinned_tier="cheap", profile=AUTO, score=0.99), "cheap", "pinned", ("frontier",)),
        (
            RouteInputs(profile=ProfileView("x", "cheap", "backup", 0.1), score=0.3),
            "backup",
            "score_above_threshold",
            ("cheap", "frontier"),
        ),
    ],
)
def test_decide(inputs: RouteInputs, tier: str, reason: str, fallbacks: tuple[str, ...]) -> None:
    decision = decide(inputs, TIERS)
    assert (decision.tier, decision.reason, decision.fallbacks) == (tier, reason, fallbacks)
    assert decision.model == TIERS[tier].model
    assert decision.chain == (tier, *fallbacks)
    assert decision.detail


@pytest.mark.parametrize("inputs", [RouteInputs(), RouteInputs(profile=AUTO), RouteInputs(pinned_tier="nowhere")])
def test_no_route(inputs: RouteInputs) -> None:
    with pytest.raises(NoEligibleRoute):
        decide(inputs, TIERS)


def test_threshold_detail_names_score_and_threshold() -> None:
    decision = decide(RouteInputs(profile=AUTO, score=0.25), TIERS)
    assert decision.detail == "profile auto: score 0.250 < threshold 0.500"


def test_half_open_admits_one_probe_at_a_time() -> None:
    from policies.health import BreakerConfig, BreakerSnapshot, breaker_state, claim_probe, on_result

    config = BreakerConfig(cooldown_s=10.0)
    opened = BreakerSnapshot(opened_at=100.0)
    assert breaker_state(opened, config, 111.0) == "half_open"
    probing = claim_probe(opened, config, 111.0)
    assert probing is not None and probing.probe_at == 111.0
    assert claim_probe(probing, config, 112.0) is None  # a second request is not a probe
    assert claim_probe(probing, config, 121.5) is not None  # a probe that never reported expires
    assert on_result(probing, True, config, 112.0).opened_at is None  # success closes
    failed = on_result(probing, False, config, 112.0)
    assert failed.opened_at == 112.0 and failed.probe_at is None  # failure reopens, probe released
