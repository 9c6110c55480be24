"""Ladders of more than two tiers: bands, up-only escalation, budgets, breakers, fallbacks, floors."""

from __future__ import annotations

import itertools

import pytest

from policies.decide import decide
from policies.ladder import band, shrink, walk
from policies.types import BudgetSnapshot, ProfileView, RequestFacts, RouteInputs, TierView
from routers.calibration import Calibration

UNIFORM = Calibration.uniform()
ALL = frozenset({"tools", "images", "json_schema"})


def view(name: str, price: float, kind: str = "chat", **kw: object) -> TierView:
    return TierView(name, f"m-{name}", input_per_mtok=price, output_per_mtok=4 * price, kind=kind, **kw)  # type: ignore[arg-type]


TIERS = {
    "small": view("small", 0.1),
    "mid": view("mid", 0.6),
    "frontier": view("frontier", 2.5),
    "thinker": view("thinker", 5.0, kind="reasoning"),
}
SHARES = (0.55, 0.30, 0.15)
LADDER = ProfileView(
    "ladder",
    "small",
    "frontier",
    threshold=0.85,
    frontier_share=0.15,
    calibration=UNIFORM,
    ladder=("small", "mid", "frontier"),
    shares=SHARES,
    bounds=UNIFORM.band_thresholds(SHARES),
)
FACTS = RequestFacts(prompt_tokens=100, max_output_tokens=100)


def route(score: float, profile: ProfileView = LADDER, **kw: object) -> RouteInputs:
    return RouteInputs(profile=profile, score=score, facts=kw.pop("facts", FACTS), **kw)  # type: ignore[arg-type]


def test_the_bands_are_the_calibrated_cumulative_shares() -> None:
    assert LADDER.rung_bounds == pytest.approx((0.55, 0.85))
    assert [band(s, LADDER.rung_bounds) for s in (0.0, 0.549, 0.551, 0.849, 0.851, 1.0)] == [0, 0, 1, 1, 2, 2]


@pytest.mark.parametrize(
    ("score", "tier", "reason", "detail"),
    [
        (0.2, "small", "score_below_threshold", "profile ladder: score 0.200 < threshold 0.550 (mid)"),
        (
            0.6,
            "mid",
            "score_above_threshold",
            "profile ladder: score 0.600 >= threshold 0.550 (mid), < threshold 0.850 (frontier)",
        ),
        (0.9, "frontier", "score_above_threshold", "profile ladder: score 0.900 >= threshold 0.850 (frontier)"),
    ],
)
def test_each_band_routes_to_its_rung(score: float, tier: str, reason: str, detail: str) -> None:
    decision = decide(route(score), TIERS)
    assert (decision.tier, decision.reason, decision.detail) == (tier, reason, detail)


def test_fallbacks_walk_the_ladder_up_first_then_down_healthy_first() -> None:
    assert decide(route(0.2), TIERS).fallbacks == ("mid", "frontier")
    assert decide(route(0.6), TIERS).fallbacks == ("frontier", "small")
    assert decide(route(0.9), TIERS).fallbacks == ("mid", "small")
    assert decide(route(0.6, health={"frontier": "open"}), TIERS).fallbacks == ("small", "frontier")


def test_a_tiers_own_fallbacks_still_win() -> None:
    tiers = {**TIERS, "mid": view("mid", 0.6, fallbacks=("small",))}
    assert decide(route(0.6), tiers).fallbacks == ("small",)


@pytest.mark.parametrize(
    ("score", "health", "tier", "moved"),
    [
        (0.6, {"mid": "open"}, "frontier", "breaker open on mid, moved to frontier"),  # up first
        (0.6, {"mid": "open", "frontier": "open"}, "small", "breaker open on mid, moved to small"),  # then down
        (0.9, {"frontier": "open"}, "mid", "breaker open on frontier, moved to mid"),  # nothing above: nearest below
        (0.2, {"small": "open", "mid": "open"}, "frontier", "breaker open on small, moved to frontier"),
        (0.6, {"mid": "half_open"}, "mid", None),
    ],
)
def test_an_open_breaker_skips_to_the_nearest_healthy_rung(
    score: float, health: dict[str, str], tier: str, moved: str | None
) -> None:
    decision = decide(route(score, health=health), TIERS)
    assert decision.tier == tier
    if moved is not None:
        assert decision.reason == "breaker_open" and decision.detail.endswith(moved)


def _dropping(names: tuple[str, ...], how: str) -> tuple[dict[str, TierView], RequestFacts]:
    """Tiers where ``names`` cannot take the request, by context window or by a missing capability."""
    tiers = dict(TIERS)
    for name in names:
        if how == "context":
            tiers[name] = view(name, TIERS[name].input_per_mtok, context_window=150)
        else:
            tiers[name] = view(name, TIERS[name].input_per_mtok, capabilities=frozenset({"tools"}))
    facts = FACTS if how == "context" else RequestFacts(100, 100, features=frozenset({"images"}))
    return tiers, facts


@pytest.mark.parametrize("how", ["context", "capability"])
def test_a_dropped_rung_only_ever_moves_the_request_up_while_a_rung_above_can_take_it(how: str) -> None:
    rungs = LADDER.rungs
    scores = [i / 50 for i in range(51)]
    for count in (1, 2):
        for dropped in itertools.combinations(rungs, count):
            tiers, facts = _dropping(dropped, how)
            for score in scores:
                wanted = band(score, LADDER.rung_bounds)
                decision = decide(route(score, facts=facts), tiers)
                chosen = rungs.index(decision.tier)
                above = [i for i in range(wanted, len(rungs)) if rungs[i] not in dropped]
                if above:
                    assert chosen == above[0], (dropped, score)  # the nearest eligible rung up, never down
                else:
                    assert chosen == max(i for i in range(len(rungs)) if rungs[i] not in dropped)
                if rungs[wanted] in dropped:
                    assert decision.reason == ("context_window" if how == "context" else "capability")


def test_budget_shrinks_the_top_rung_first() -> None:
    assert shrink(SHARES, 1.0) == pytest.approx(SHARES)
    assert shrink(SHARES, 0.8) == pytest.approx((0.64, 0.30, 0.06))  # 0.45 -> 0.36: the top loses 0.09
    assert shrink(SHARES, 0.5) == pytest.approx((0.775, 0.225, 0.0))  # the top is gone, then mid shrinks
    assert shrink(SHARES, 0.0) == pytest.approx((1.0, 0.0, 0.0))
    assert shrink((0.7, 0.3), 0.5)[1] == 0.3 * 0.5  # two rungs: exactly the old frontier share x factor


def test_budget_near_its_limit_moves_traffic_down_the_upper_rungs_first() -> None:
    half = (BudgetSnapshot("global", limit_usd=1.0, spent_usd=0.9),)  # soft 0.8: factor 0.5
    decision = decide(route(0.9, budgets=half), TIERS)  # shares 0.775/0.225/0: frontier's band is empty
    assert decision.tier == "mid"
    assert "< threshold inf (frontier) (shares 0.78/0.22/0.00, shrunk by budget)" in decision.detail
    assert decide(route(0.8, budgets=half), TIERS).tier == "mid"  # mid now starts at 0.775
    assert decide(route(0.7, budgets=half), TIERS).tier == "small"


def test_over_budget_degrades_to_the_nearest_cheaper_rung_that_fits() -> None:
    facts = RequestFacts(prompt_tokens=1000, max_output_tokens=1000)  # frontier ~0.0125, mid ~0.003, small ~0.0005
    tight = (BudgetSnapshot("global", limit_usd=1.0, spent_usd=0.995, soft_fraction=1.0),)  # no shrinking
    decision = decide(route(0.95, facts=facts, budgets=tight), TIERS)
    assert (decision.tier, decision.reason) == ("mid", "budget")
    tighter = (BudgetSnapshot("global", limit_usd=1.0, spent_usd=0.999, soft_fraction=1.0),)
    assert decide(route(0.95, facts=facts, budgets=tighter), TIERS).tier == "small"


def test_a_sticky_floor_holds_the_conversation_on_its_highest_rung() -> None:
    decision = decide(route(0.1, floor="frontier"), TIERS)
    assert (decision.tier, decision.reason) == ("frontier", "sticky")
    assert decision.detail.endswith("; sticky: conversation already on frontier")
    assert decide(route(0.6, floor="small"), TIERS).reason == "score_above_threshold"  # a lower floor does nothing
    assert decide(route(0.95, floor="mid"), TIERS).tier == "frontier"  # the score may still climb
    assert decide(route(0.1, floor="retired-tier"), TIERS).tier == "small"  # a floor off the ladder is ignored
    moved = decide(route(0.1, floor="frontier", health={"frontier": "open"}), TIERS)
    assert moved.tier == "mid" and moved.reason == "breaker_open"  # health still wins


REASONING = ProfileView(
    "thinking",
    "small",
    "thinker",
    threshold=0.95,
    frontier_share=0.05,
    calibration=UNIFORM,
    ladder=("small", "mid", "frontier", "thinker"),
    shares=(0.5, 0.3, 0.15, 0.05),
    bounds=UNIFORM.band_thresholds((0.5, 0.3, 0.15, 0.05)),
)


def test_reasoning_effort_climbs_to_the_reasoning_rung_and_a_high_score_lands_there_anyway() -> None:
    wants = RequestFacts(100, 100, reasoning=True)
    decision = decide(route(0.1, REASONING, facts=wants), TIERS)
    assert (decision.tier, decision.reason) == ("thinker", "reasoning_effort")
    assert "reasoning_effort set, up to the reasoning rung thinker" in decision.detail
    assert decide(route(0.1, REASONING), TIERS).tier == "small"
    assert decide(route(0.97, REASONING), TIERS).tier == "thinker"  # the score's own band
    assert decide(route(0.1, facts=wants), TIERS).tier == "small"  # no reasoning rung on this ladder


def test_walk_goes_up_nearest_first_then_down_nearest_first() -> None:
    assert walk(1, 4) == (2, 3, 0)
    assert walk(2, 4, up_first=False) == (1, 0, 3)
    assert walk(0, 1) == ()
