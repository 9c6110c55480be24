"""The values policies take and return: frozen, slotted, no behaviour beyond views."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, get_args

from routers.calibration import Calibration

BreakerState = Literal["closed", "open", "half_open"]
Capability = Literal["tools", "images", "json_schema", "completions", "responses"]
ALL_CAPABILITIES: frozenset[str] = frozenset(get_args(Capability))


@dataclass(frozen=True, slots=True)
class TierView:
    """What a policy knows of a tier."""

    name: str
    model: str
    fallbacks: tuple[str, ...] | None = None
    context_window: int = 1 << 30
    capabilities: frozenset[str] = ALL_CAPABILITIES
    input_per_mtok: float = 0.0
    output_per_mtok: float = 0.0
    kind: str = "chat"  # chat, reasoning (a request setting reasoning_effort may climb to it) or embeddings

    def estimate_usd(self, prompt_tokens: int, output_tokens: int) -> float:
        return (prompt_tokens * self.input_per_mtok + output_tokens * self.output_per_mtok) / 1e6


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A routing profile as policies see it.

    Its ladder is its tiers cheapest first with the share of traffic each should get, and the
    calibrated lower score bound of every rung above the first. Without ``ladder`` (a profile
    configured with ``cheap_tier``/``frontier_tier``/``frontier_share``) it is the two rungs
    ``cheap_tier`` (share ``1 - frontier_share``) and ``frontier_tier`` (``threshold``).
    """

    name: str
    cheap_tier: str  # the bottom rung
    frontier_tier: str  # the top rung (the savings counterfactual)
    threshold: float
    frontier_share: float = 0.0
    calibration: Calibration | None = None  # to recompute the thresholds when a budget shrinks the shares
    over_budget: Literal["degrade", "reject"] = "degrade"
    ladder: tuple[str, ...] = ()  # every rung's tier, cheapest first (empty: cheap_tier, frontier_tier)
    shares: tuple[float, ...] = ()  # each rung's configured share of traffic
    bounds: tuple[float, ...] = ()  # the lower score bound of each rung above the first

    @property
    def rungs(self) -> tuple[str, ...]:
        return self.ladder or (self.cheap_tier, self.frontier_tier)

    @property
    def rung_shares(self) -> tuple[float, ...]:
        return self.shares or (1.0 - self.frontier_share, self.frontier_share)

    @property
    def rung_bounds(self) -> tuple[float, ...]:
        return self.bounds or (self.threshold,)

    def threshold_for(self, share: float) -> float:
        if self.calibration is None or share == self.frontier_share:
            return self.threshold
        return self.calibration.threshold_for_share(share)

    def bounds_for(self, shares: tuple[float, ...]) -> tuple[float, ...]:
        """The rungs' score bounds for these (budget-shrunk) shares; the configured ones when unchanged."""
        if self.calibration is None or shares == self.rung_shares:
            return self.rung_bounds
        return self.calibration.band_thresholds(shares)


@dataclass(frozen=True, slots=True)
class RequestFacts:
    """What the request needs: its size and the features it uses."""

    prompt_tokens: int = 0
    max_output_tokens: int = 0  # the request's max tokens (0 when it sets none): what the context must hold
    expected_output_tokens: int = 256  # the output a budget estimate assumes when the request sets no max tokens
    features: frozenset[str] = frozenset()
    choices: int = 1  # ``n``: every choice produces its own output
    reasoning: bool = False  # the request sets ``reasoning_effort``: it may climb to a reasoning rung

    @property
    def context_tokens(self) -> int:
        return self.prompt_tokens + self.max_output_tokens

    @property
    def estimate_output_tokens(self) -> int:
        """The output a cost estimate assumes: max tokens (or the expected output) per choice."""
        return (self.max_output_tokens or self.expected_output_tokens) * self.choices


@dataclass(frozen=True, slots=True)
class BudgetSnapshot:
    """Spend in the current window of one budget, read from the shared store."""

    scope: str
    limit_usd: float
    spent_usd: float
    soft_fraction: float = 0.8  # from here to the limit, the frontier share shrinks linearly to 0

    @property
    def share_factor(self) -> float:
        """1 below the soft limit, falling linearly to 0 at the limit."""
        soft = self.limit_usd * self.soft_fraction
        if self.spent_usd <= soft:
            return 1.0
        return max(0.0, (self.limit_usd - self.spent_usd) / max(self.limit_usd - soft, 1e-12))

    def affords(self, cost_usd: float) -> bool:
        return self.spent_usd + cost_usd <= self.limit_usd


@dataclass(frozen=True, slots=True)
class RouteInputs:
    """One request as policies see it."""

    pinned_tier: str | None = None
    profile: ProfileView | None = None
    score: float | None = None
    facts: RequestFacts = field(default_factory=RequestFacts)
    budgets: tuple[BudgetSnapshot, ...] = ()
    health: Mapping[str, BreakerState] = field(default_factory=dict)
    allowed_tiers: frozenset[str] | None = None  # the caller's API key may use only these tiers
    floor: str | None = None  # sticky: the highest rung this conversation already used (never route below it)


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """Where a request goes, why, and where it goes if that fails.

    ``reason`` is one of a small fixed set (it becomes a metric label);
    ``detail`` is the human-readable why, for headers and logs.
    """

    tier: str
    model: str
    reason: str
    fallbacks: tuple[str, ...]
    detail: str = ""

    @property
    def chain(self) -> tuple[str, ...]:
        return (self.tier, *self.fallbacks)


class NoEligibleRoute(ValueError):
    """No tier can serve the request."""

    code = "no_eligible_route"


class ContextTooLong(NoEligibleRoute):
    """The prompt plus the requested output fits no tier's context window."""

    code = "context_length_exceeded"


class UnsupportedFeature(NoEligibleRoute):
    """No tier has every feature the request uses."""

    code = "unsupported_feature"


class TierNotAllowed(NoEligibleRoute):
    """The caller's key may not use any tier this request could go to."""

    code = "tier_not_allowed"


class BudgetExceeded(NoEligibleRoute):
    """Even the cheapest eligible tier would overspend a budget."""

    code = "budget_exceeded"
