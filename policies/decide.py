"""Composing policies into one ``RouteDecision``, in a fixed order.

1. pinned    -- the client named a tier: go there.
2. threshold -- the profile's calibrated threshold on the router's score:
                at or above it, the frontier tier; below it, the cheap tier.

Fallbacks: a tier's configured ``fallbacks`` if it has them, else the other tier
of the profile (for a pinned ``cheap`` or ``frontier`` tier: the other of the two; other tiers: none).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from policies.types import NoEligibleRoute, RouteDecision, RouteInputs, TierView

REASONS = ("pinned", "score_above_threshold", "score_below_threshold")
# A pinned cheap or frontier tier falls back to the other one; other tiers only as configured.
PAIR: Mapping[str, tuple[str, ...]] = MappingProxyType({"cheap": ("frontier",), "frontier": ("cheap",)})


def decide(inputs: RouteInputs, tiers: Mapping[str, TierView]) -> RouteDecision:
    """The route for one request."""
    if inputs.pinned_tier is not None:
        return _pinned(inputs.pinned_tier, tiers)
    if inputs.profile is None or inputs.score is None:
        raise NoEligibleRoute("a request needs a pinned tier or a profile with a score")
    return _threshold(inputs, tiers)


def _fallbacks(tier: TierView, default: tuple[str, ...]) -> tuple[str, ...]:
    chosen = tier.fallbacks if tier.fallbacks is not None else default
    return tuple(name for name in chosen if name != tier.name)


def _pinned(name: str, tiers: Mapping[str, TierView]) -> RouteDecision:
    tier = tiers.get(name)
    if tier is None:
        raise NoEligibleRoute(f"no tier named {name!r}")
    default = PAIR.get(name, ())
    return RouteDecision(name, tier.model, "pinned", _fallbacks(tier, default), f"pinned to tier {name}")


def _threshold(inputs: RouteInputs, tiers: Mapping[str, TierView]) -> RouteDecision:
    profile, score = inputs.profile, inputs.score
    assert profile is not None and score is not None
    above = score >= profile.threshold
    name = profile.frontier_tier if above else profile.cheap_tier
    other = profile.cheap_tier if above else profile.frontier_tier
    tier = tiers[name]
    reason = "score_above_threshold" if above else "score_below_threshold"
    sign = ">=" if above else "<"
    detail = f"profile {profile.name}: score {score:.3f} {sign} threshold {profile.threshold:.3f}"
    return RouteDecision(name, tier.model, reason, _fallbacks(tier, (other,)), detail)
