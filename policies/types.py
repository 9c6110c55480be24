"""The values policies take and return: frozen, slotted, no behaviour beyond views."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TierView:
    """What a policy knows of a tier: its name, model and configured fallbacks."""

    name: str
    model: str
    fallbacks: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class ProfileView:
    """A routing profile reduced to what the threshold policy needs."""

    name: str
    cheap_tier: str
    frontier_tier: str
    threshold: float


@dataclass(frozen=True, slots=True)
class RouteInputs:
    """One request as policies see it: a pinned tier, or a profile and a score."""

    pinned_tier: str | None = None
    profile: ProfileView | None = None
    score: float | None = None


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
