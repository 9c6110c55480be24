"""A two-tier profile is the two-rung ladder: the same decision, reason, detail and fallbacks for every input."""

from __future__ import annotations

import itertools

from policies.decide import decide
from policies.types import BudgetSnapshot, NoEligibleRoute, ProfileView, RequestFacts, RouteInputs, TierView
from routers.calibration import Calibration

CALIBRATION = Calibration.from_scores([((i * 7919) % 1000) / 1000 for i in range(1000)])
TIERS = {
    "cheap": TierView("cheap", "m-cheap", context_window=8192, capabilities=frozenset({"tools"}), input_per_mtok=0.1),
    "frontier": TierView("frontier", "m-frontier", context_window=128000, input_per_mtok=2.5, output_per_mtok=10.0),
    "spare": TierView("spare", "m-spare", fallbacks=("cheap",)),
}


def profiles(share: float) -> tuple[ProfileView, ProfileView]:
    """The classic pair and the same profile written as a ladder (as ``build_profiles`` builds them)."""
    threshold = CALIBRATION.threshold_for_share(share)
    classic = ProfileView("p", "cheap", "frontier", threshold, share, CALIBRATION)
    shares = (1.0 - share, share)
    ladder = ProfileView(
        "p",
        "cheap",
        "frontier",
        threshold,
        share,
        CALIBRATION,
        ladder=("cheap", "frontier"),
        shares=shares,
        bounds=CALIBRATION.band_thresholds(shares),
    )
    return classic, ladder


FACTS = (
    RequestFacts(100, 100),
    RequestFacts(9000, 100),  # too long for cheap
    RequestFacts(100, 100, features=frozenset({"images"})),  # only frontier
    RequestFacts(100, 100, features=frozenset({"tools"})),
    RequestFacts(200_000, 0),  # fits nothing
)
BUDGETS = ((), (BudgetSnapshot("global", 1.0, 0.9),), (BudgetSnapshot("global", 1.0, 0.99999),))
HEALTH = ({}, {"cheap": "open"}, {"frontier": "open"}, {"cheap": "open", "frontier": "open"}, {"cheap": "half_open"})


def outcome(inputs: RouteInputs) -> object:
    try:
        decision = decide(inputs, TIERS)
    except NoEligibleRoute as exc:
        return (type(exc).__name__, str(exc))
    return (decision.tier, decision.reason, decision.detail, decision.fallbacks)


def test_a_two_rung_ladder_decides_exactly_like_cheap_and_frontier() -> None:
    scores = [i / 40 for i in range(41)]
    for share in (0.0, 0.1, 0.3, 1.0):
        classic, ladder = profiles(share)
        assert ladder.rung_bounds == classic.rung_bounds
        for score, facts, budgets, health, floor in itertools.product(
            scores, FACTS, BUDGETS, HEALTH, (None, "cheap", "frontier")
        ):
            kw = {"score": score, "facts": facts, "budgets": budgets, "health": health}
            old = outcome(RouteInputs(profile=classic, **kw))  # type: ignore[arg-type]
            new = outcome(RouteInputs(profile=ladder, **kw))  # type: ignore[arg-type]
            assert new == old, (share, kw)
            if floor is None:
                continue
            sticky = outcome(RouteInputs(profile=ladder, floor=floor, **kw))  # type: ignore[arg-type]
            assert sticky == outcome(RouteInputs(profile=classic, floor=floor, **kw))  # type: ignore[arg-type]


def test_a_two_tier_decision_reads_as_it_always_did() -> None:
    classic, _ = profiles(0.3)
    decision = decide(RouteInputs(profile=classic, score=0.99), TIERS)
    assert decision.detail == f"profile p: score 0.990 >= threshold {classic.threshold:.3f}"
    assert (decision.tier, decision.fallbacks) == ("frontier", ("cheap",))
    shrunk = decide(RouteInputs(profile=classic, score=0.99, budgets=(BudgetSnapshot("global", 1.0, 0.9),)), TIERS)
    assert shrunk.detail.endswith("(frontier share 0.15, shrunk by budget)")
