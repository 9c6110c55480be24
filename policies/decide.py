"""Composing policies into one ``RouteDecision``, in a fixed, documented order.

1. pinned     -- a tier named as ``model`` (or by the ``x-triage-tier`` header where the
                 profile allows it) is the only candidate; otherwise the rungs of the
                 profile's ladder are (cheapest first; a two-tier profile: cheap, frontier).
2. context    -- candidates whose context window cannot hold the prompt plus the requested
                 output are dropped; none left: ``ContextTooLong`` (400).
3. capability -- candidates lacking a feature the request uses (tools, image parts,
                 json_schema) are dropped; none left: ``UnsupportedFeature`` (400).
4. budget     -- near a budget's limit the upper rungs' shares shrink, the top rung's first
                 (linearly from the soft limit to 0 at the limit); a tier whose estimated cost
                 would overspend is replaced by the nearest cheaper candidate that fits the
                 budget (``degrade``) or the request is refused (``reject``, or nothing
                 affordable): ``BudgetExceeded`` (429).
5. threshold  -- the router's score against the rungs' calibrated bounds for the (possibly
                 shrunk) shares picks a rung (two rungs: at or above the threshold the
                 frontier tier, below it cheap). A sticky conversation's floor (the highest
                 rung it already used, reason ``sticky``) and a request's ``reasoning_effort``
                 (the ladder's lowest reasoning rung, reason ``reasoning_effort``) raise it.
                 If that rung was dropped by 2-3, the nearest candidate up the ladder serves
                 (down only when nothing above can).
6. health     -- if the chosen tier's circuit breaker is open, the nearest healthy rung (up
                 first, then down; for a pinned tier, a healthy fallback) serves instead
                 (reason ``breaker_open``); if none is healthy the chosen tier is tried anyway.

Fallbacks: a tier's configured ``fallbacks`` if it has them, else the ladder walked from
the chosen rung (up first, then down; for a pinned ``cheap``/``frontier`` tier: the other
one), keeping only tiers that passed 2 and 3, healthy ones first. See ``policies.ladder``.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from policies.ladder import band, describe, shrink, walk
from policies.types import (
    BudgetExceeded,
    ContextTooLong,
    NoEligibleRoute,
    ProfileView,
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
    "sticky",
    "reasoning_effort",
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
    tier, reason, detail = _preferred(inputs, capable, {t.name for t in fitting}, tiers)
    tier, reason, detail = _within_budget(inputs, capable, tier, reason, detail)
    extra = [tiers[n] for n in _fallbacks(inputs, tier, capable, tiers) if tiers[n] not in capable]
    tier, reason, detail = _healthy(inputs, _walked(inputs, tier, capable) + extra, tier, reason, detail)
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
        candidates = [tiers[name] for name in profile.rungs]
    allowed = [t for t in candidates if inputs.allowed_tiers is None or t.name in inputs.allowed_tiers]
    if not allowed:
        names = ", ".join(t.name for t in candidates)
        raise TierNotAllowed(f"this API key may not use tier(s) {names}")
    return allowed


def _preferred(
    inputs: RouteInputs, capable: list[TierView], fitting: set[str], tiers: Mapping[str, TierView]
) -> tuple[TierView, str, str]:
    if inputs.pinned_tier is not None:
        return capable[0], "pinned", f"pinned to tier {inputs.pinned_tier}"
    profile, score = inputs.profile, inputs.score
    assert profile is not None and score is not None
    factor = min((b.share_factor for b in inputs.budgets), default=1.0)
    shares = shrink(profile.rung_shares, factor) if factor < 1.0 else profile.rung_shares
    bounds = profile.bounds_for(shares)
    index = band(score, bounds)
    reason = "score_above_threshold" if index else "score_below_threshold"
    detail = _band_detail(profile, score, bounds, index)
    if factor < 1.0:
        shrunk = f"frontier share {shares[-1]:.2f}" if len(shares) == 2 else f"shares {describe(shares)}"
        detail += f" ({shrunk}, shrunk by budget)"
    index, reason, detail = _floors(inputs, tiers, index, reason, detail)
    rungs = profile.rungs
    by_name = {t.name: t for t in capable}
    wanted = rungs[index]
    if wanted in by_name:
        return by_name[wanted], reason, detail
    served = next(by_name[rungs[i]] for i in walk(index, len(rungs)) if rungs[i] in by_name)
    if wanted not in fitting:
        return served, "context_window", f"{detail}; {wanted}'s context window is too small, using {served.name}"
    return served, "capability", f"{detail}; {wanted} lacks a feature the request uses, using {served.name}"


def _band_detail(profile: ProfileView, score: float, bounds: tuple[float, ...], index: int) -> str:
    """``score 0.612 >= threshold 0.373`` (two rungs); on a longer ladder, the rung's bounds by name."""
    head = f"profile {profile.name}: score {score:.3f}"
    if len(bounds) == 1:
        return f"{head} {'>=' if index else '<'} threshold {bounds[0]:.3f}"
    rungs = profile.rungs
    parts = [f">= threshold {bounds[index - 1]:.3f} ({rungs[index]})"] if index else []
    if index < len(bounds):
        parts.append(f"< threshold {bounds[index]:.3f} ({rungs[index + 1]})")
    return f"{head} {', '.join(parts)}"


def _floors(
    inputs: RouteInputs, tiers: Mapping[str, TierView], index: int, reason: str, detail: str
) -> tuple[int, str, str]:
    """Raise the rung to a sticky conversation's floor, and to the reasoning rung for ``reasoning_effort``."""
    assert inputs.profile is not None
    rungs = inputs.profile.rungs
    if inputs.floor in rungs and rungs.index(inputs.floor) > index:
        index, reason = rungs.index(inputs.floor), "sticky"
        detail += f"; sticky: conversation already on {inputs.floor}"
    if inputs.facts.reasoning:
        lowest = next((i for i, name in enumerate(rungs) if tiers[name].kind == "reasoning"), None)
        if lowest is not None and lowest > index:
            index, reason = lowest, "reasoning_effort"
            detail += f"; reasoning_effort set, up to the reasoning rung {rungs[lowest]}"
    return index, reason, detail


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
    cheaper = [t for t in _walked(inputs, tier, capable, up_first=False) if affordable(t)]
    if rule == "degrade" and cheaper:
        return cheaper[0], "budget", f"{detail}; budget {scopes} nearly spent, degraded to {cheaper[0].name}"
    raise BudgetExceeded(f"budget {scopes} exhausted: this request would overspend it")


def _healthy(
    inputs: RouteInputs, capable: list[TierView], tier: TierView, reason: str, detail: str
) -> tuple[TierView, str, str]:
    if inputs.health.get(tier.name, "closed") != "open":
        return tier, reason, detail
    healthy = [t for t in capable if t.name != tier.name and inputs.health.get(t.name, "closed") != "open"]
    if not healthy:
        return tier, reason, f"{detail}; breaker open on {tier.name} but no healthy tier, trying it"
    return healthy[0], "breaker_open", f"{detail}; breaker open on {tier.name}, moved to {healthy[0].name}"


def _walked(inputs: RouteInputs, tier: TierView, pool: list[TierView], up_first: bool = True) -> list[TierView]:
    """``pool`` without ``tier``, in the order a request moves along its profile's ladder from ``tier``."""
    others = [t for t in pool if t.name != tier.name]
    profile = inputs.profile
    if inputs.pinned_tier is not None or profile is None or tier.name not in profile.rungs:
        return others
    rungs = profile.rungs
    by_name = {t.name: t for t in others}
    steps = walk(rungs.index(tier.name), len(rungs), up_first)
    return [by_name[rungs[i]] for i in steps if rungs[i] in by_name] + [t for t in others if t.name not in rungs]


def _fallbacks(
    inputs: RouteInputs, tier: TierView, capable: list[TierView], tiers: Mapping[str, TierView]
) -> tuple[str, ...]:
    if tier.fallbacks is not None:
        chosen: tuple[str, ...] = tier.fallbacks
    elif inputs.profile is not None and inputs.pinned_tier is None:
        chosen = tuple(t.name for t in _walked(inputs, tier, capable))
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
