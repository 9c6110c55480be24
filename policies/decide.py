"""Composing policies into one ``RouteDecision``, in a fixed, documented order.

1. pinned     -- a tier named as ``model`` (or by the ``x-triage-tier`` header where the
                 profile allows it) is the only candidate; otherwise the profile's cheap
                 and frontier tiers are.
2. context    -- candidates whose context window cannot hold the prompt plus the requested
                 output are dropped; none left: ``ContextTooLong`` (400).
3. capability -- candidates lacking a feature the request uses (tools, image parts,
                 json_schema) are dropped; none left: ``UnsupportedFeature`` (400).
4. budget     -- near a budget's limit the frontier share shrinks (linearly from the soft
                 limit to 0 at the limit); a tier whose estimated cost would overspend is
                 replaced by a cheaper candidate that fits the budget (``degrade``) or the
                 request is refused (``reject``, or nothing affordable): ``BudgetExceeded`` (429).
5. threshold  -- the router's score against the profile's calibrated threshold for the
                 (possibly shrunk) share: at or above it the frontier tier, below it cheap.
                 If the preferred tier was dropped by 2-4, the remaining candidate serves.
6. health     -- if the chosen tier's circuit breaker is open, a healthy candidate (or, for a
                 pinned tier, a healthy fallback) serves instead (reason ``breaker_open``);
                 if none is healthy the chosen tier is tried anyway.

Fallbacks: a tier's configured ``fallbacks`` if it has them, else the other of the
profile's pair (for a pinned ``cheap``/``frontier`` tier: the other one), keeping only
tiers that passed 2 and 3, healthy ones first.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from policies.types import (
    BudgetExceeded,
    ContextTooLong,
    NoEligibleRoute,
    RequestFacts,
    RouteDecision,
    RouteInputs,
    TierNotAllowed,
    TierView,
    UnsupportedFeature,
)

REASONS = (
    "pinned",
    "score_above_threshold",
    "score_below_threshold",
    "context_window",
    "capability",
    "budget",
    "breaker_open",
)
# A pinned cheap or frontier tier falls back to the other one; other tiers only as configured.
PAIR: Mapping[str, tuple[str, ...]] = MappingProxyType({"cheap": ("frontier",), "frontier": ("cheap",)})


def decide(inputs: RouteInputs, tiers: Mapping[str, TierView]) -> RouteDecision:
    """The route for one request."""
    candidates = _candidates(inputs, tiers)
    facts = inputs.facts
    fitting = [t for t in candidates if facts.context_tokens <= t.context_window]
    if not fitting:
        raise ContextTooLong(_too_long(facts, candidates))
    capable = [t for t in fitting if facts.features <= t.capabilities]
    if not capable:
        missing = ", ".join(sorted(facts.features - set().union(*(t.capabilities for t in fitting))))
        raise UnsupportedFeature(f"no tier supports every feature this request uses ({missing or 'the combination'})")
    tier, reason, detail = _preferred(inputs, capable, {t.name for t in fitting})
    tier, reason, detail = _within_budget(inputs, capable, tier, reason, detail)
    alternatives = capable + [tiers[n] for n in _fallbacks(inputs, tier, capable, tiers) if tiers[n] not in capable]
    tier, reason, detail = _healthy(inputs, alternatives, tier, reason, detail)
    return RouteDecision(tier.name, tier.model, reason, _fallbacks(inputs, tier, capable, tiers), detail)


def _too_long(facts: RequestFacts, candidates: list[TierView]) -> str:
    """Why no candidate's context window holds the request; max tokens named only if it set some."""
    if len(candidates) == 1:
        window = f"tier {candidates[0].name}'s context window ({candidates[0].context_window})"
    else:
        window = f"any eligible tier's context window (largest: {max(t.context_window for t in candidates)})"
    prompt = f"the prompt ({facts.prompt_tokens} tokens)"
    if facts.max_output_tokens:
        return (
            f"{prompt} plus the requested max tokens ({facts.max_output_tokens}) needs "
            f"{facts.context_tokens} tokens, more than {window}"
        )
    return f"{prompt} needs more than {window}"


def _candidates(inputs: RouteInputs, tiers: Mapping[str, TierView]) -> list[TierView]:
    if inputs.pinned_tier is not None:
        tier = tiers.get(inputs.pinned_tier)
        if tier is None:
            raise NoEligibleRoute(f"no tier named {inputs.pinned_tier!r}")
        candidates = [tier]
    else:
        profile = inputs.profile
        if profile is None or inputs.score is None:
            raise NoEligibleRoute("a request needs a pinned tier or a profile with a score")
        candidates = [tiers[profile.cheap_tier], tiers[profile.frontier_tier]]
    allowed = [t for t in candidates if inputs.allowed_tiers is None or t.name in inputs.allowed_tiers]
    if not allowed:
        names = ", ".join(t.name for t in candidates)
        raise TierNotAllowed(f"this API key may not use tier(s) {names}")
    return allowed


def _preferred(inputs: RouteInputs, capable: list[TierView], fitting: set[str]) -> tuple[TierView, str, str]:
    if inputs.pinned_tier is not None:
        return capable[0], "pinned", f"pinned to tier {inputs.pinned_tier}"
    profile, score = inputs.profile, inputs.score
    assert profile is not None and score is not None
    factor = min((b.share_factor for b in inputs.budgets), default=1.0)
    share = profile.frontier_share * factor if factor < 1.0 else profile.frontier_share
    threshold = profile.threshold_for(share)
    above = score >= threshold
    wanted = profile.frontier_tier if above else profile.cheap_tier
    sign = ">=" if above else "<"
    detail = f"profile {profile.name}: score {score:.3f} {sign} threshold {threshold:.3f}"
    if factor < 1.0:
        detail += f" (frontier share {share:.2f}, shrunk by budget)"
    by_name = {t.name: t for t in capable}
    if wanted in by_name:
        return by_name[wanted], "score_above_threshold" if above else "score_below_threshold", detail
    served = capable[0]
    if wanted not in fitting:
        return served, "context_window", f"{detail}; {wanted}'s context window is too small, using {served.name}"
    return served, "capability", f"{detail}; {wanted} lacks a feature the request uses, using {served.name}"


def _within_budget(
    inputs: RouteInputs, capable: list[TierView], tier: TierView, reason: str, detail: str
) -> tuple[TierView, str, str]:
    if not inputs.budgets:
        return tier, reason, detail
    facts = inputs.facts

    def affordable(t: TierView) -> bool:
        cost = t.estimate_usd(facts.prompt_tokens, facts.estimate_output_tokens)
        return all(b.affords(cost) for b in inputs.budgets)

    if affordable(tier):
        return tier, reason, detail
    scopes = ", ".join(b.scope for b in inputs.budgets)
    rule = inputs.profile.over_budget if inputs.profile is not None else "degrade"
    cheaper = sorted(
        (t for t in capable if t is not tier and affordable(t)),
        key=lambda t: t.estimate_usd(facts.prompt_tokens, facts.estimate_output_tokens),
    )
    if rule == "degrade" and cheaper:
        return cheaper[0], "budget", f"{detail}; budget {scopes} nearly spent, degraded to {cheaper[0].name}"
    raise BudgetExceeded(f"budget {scopes} exhausted: this request would overspend it")


def _healthy(
    inputs: RouteInputs, capable: list[TierView], tier: TierView, reason: str, detail: str
) -> tuple[TierView, str, str]:
    if inputs.health.get(tier.name, "closed") != "open":
        return tier, reason, detail
    healthy = [t for t in capable if t is not tier and inputs.health.get(t.name, "closed") != "open"]
    if not healthy:
        return tier, reason, f"{detail}; breaker open on {tier.name} but no healthy tier, trying it"
    return healthy[0], "breaker_open", f"{detail}; breaker open on {tier.name}, moved to {healthy[0].name}"


def _fallbacks(
    inputs: RouteInputs, tier: TierView, capable: list[TierView], tiers: Mapping[str, TierView]
) -> tuple[str, ...]:
    if tier.fallbacks is not None:
        chosen: tuple[str, ...] = tier.fallbacks
    elif inputs.profile is not None and inputs.pinned_tier is None:
        chosen = tuple(t.name for t in capable)
    else:
        chosen = PAIR.get(tier.name, ())
    facts = inputs.facts
    usable = [
        name
        for name in chosen
        if name != tier.name
        and name in tiers
        and (inputs.allowed_tiers is None or name in inputs.allowed_tiers)
        and facts.context_tokens <= tiers[name].context_window
        and facts.features <= tiers[name].capabilities
    ]
    return tuple(sorted(usable, key=lambda name: inputs.health.get(name, "closed") == "open"))
