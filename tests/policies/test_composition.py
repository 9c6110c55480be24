"""Each policy step and the composition order, table-driven."""

from __future__ import annotations

import pytest

from policies.decide import decide
from policies.health import BreakerConfig, BreakerSnapshot, breaker_state, on_result
from policies.types import (
    BudgetExceeded,
    BudgetSnapshot,
    ContextTooLong,
    ProfileView,
    RequestFacts,
    RouteInputs,
    TierView,
    UnsupportedFeature,
)
from routers.calibration import Calibration

TIERS = {
    "cheap": TierView(
        "cheap",
        "m-cheap",
        context_window=8192,
        capabilities=frozenset({"tools"}),
        input_per_mtok=0.1,
        output_per_mtok=0.4,
    ),
    "frontier": TierView(
        "frontier",
        "m-frontier",
        context_window=128000,
        capabilities=frozenset({"tools", "images", "json_schema"}),
        input_per_mtok=2.5,
        output_per_mtok=10.0,
    ),
}
AUTO = ProfileView("auto", "cheap", "frontier", threshold=0.7, frontier_share=0.3, calibration=Calibration.uniform())
REJECT = ProfileView(
    "strict",
    "cheap",
    "frontier",
    threshold=0.7,
    frontier_share=0.3,
    calibration=Calibration.uniform(),
    over_budget="reject",
)
SHORT = RequestFacts(prompt_tokens=100, max_output_tokens=100)


def inputs(score: float = 0.2, facts: RequestFacts = SHORT, profile: ProfileView = AUTO, **kw: object) -> RouteInputs:
    return RouteInputs(profile=profile, score=score, facts=facts, **kw)  # type: ignore[arg-type]


def budget(spent: float, limit: float = 1.0) -> tuple[BudgetSnapshot, ...]:
    return (BudgetSnapshot("global", limit_usd=limit, spent_usd=spent),)


@pytest.mark.parametrize(
    ("case", "tier", "reason"),
    [
        (inputs(0.2), "cheap", "score_below_threshold"),
        (inputs(0.9), "frontier", "score_above_threshold"),
        # context: too long for cheap escalates to frontier even with a low score
        (inputs(0.2, RequestFacts(9000, 100)), "frontier", "context_window"),
        (inputs(0.2, RequestFacts(8000, 500)), "frontier", "context_window"),
        # capabilities: images / json_schema only on frontier
        (inputs(0.2, RequestFacts(100, 100, features=frozenset({"images"}))), "frontier", "capability"),
        (inputs(0.2, RequestFacts(100, 100, features=frozenset({"tools"}))), "cheap", "score_below_threshold"),
        # budget: near the limit the share shrinks (0.9 spent of 1.0: factor 0.5, share 0.15 -> threshold 0.85)
        (inputs(0.8, budgets=budget(0.0)), "frontier", "score_above_threshold"),
        (inputs(0.8, budgets=budget(0.9)), "cheap", "score_below_threshold"),
        # budget: the frontier would overspend, cheap fits: degrade
        (inputs(0.99, RequestFacts(1000, 1000), budgets=budget(0.99, 1.0)), "cheap", "budget"),
        # health: an open breaker moves traffic
        (inputs(0.9, health={"frontier": "open"}), "cheap", "breaker_open"),
        (inputs(0.2, health={"cheap": "open"}), "frontier", "breaker_open"),
        (inputs(0.2, health={"cheap": "half_open"}), "cheap", "score_below_threshold"),
        # both open: try the chosen one anyway
        (inputs(0.2, health={"cheap": "open", "frontier": "open"}), "cheap", "score_below_threshold"),
        # pinned wins over score, and is still subject to health
        (RouteInputs(pinned_tier="cheap", profile=AUTO, score=0.99, facts=SHORT), "cheap", "pinned"),
        (RouteInputs(pinned_tier="frontier", facts=SHORT, health={"frontier": "open"}), "cheap", "breaker_open"),
        (
            RouteInputs(pinned_tier="frontier", facts=SHORT, health={"frontier": "open", "cheap": "open"}),
            "frontier",
            "pinned",
        ),
    ],
)
def test_composition(case: RouteInputs, tier: str, reason: str) -> None:
    decision = decide(case, TIERS)
    assert (decision.tier, decision.reason) == (tier, reason), decision.detail
    assert decision.tier not in decision.fallbacks


def test_order_context_before_capability_before_threshold() -> None:
    # too long for cheap AND uses tools: frontier fits and has tools
    decision = decide(inputs(0.1, RequestFacts(9000, 10, features=frozenset({"tools"}))), TIERS)
    assert decision.tier == "frontier" and decision.fallbacks == ()


@pytest.mark.parametrize(
    ("case", "error", "code"),
    [
        (inputs(0.5, RequestFacts(200000, 100)), ContextTooLong, "context_length_exceeded"),
        (RouteInputs(pinned_tier="cheap", facts=RequestFacts(9000, 10)), ContextTooLong, "context_length_exceeded"),
        (
            RouteInputs(pinned_tier="cheap", facts=RequestFacts(10, 10, features=frozenset({"images"}))),
            UnsupportedFeature,
            "unsupported_feature",
        ),
        (inputs(0.99, RequestFacts(1000, 1000), budgets=budget(1.0, 1.0)), BudgetExceeded, "budget_exceeded"),
        (inputs(0.99, RequestFacts(1000, 1000), REJECT, budgets=budget(0.99, 1.0)), BudgetExceeded, "budget_exceeded"),
    ],
)
def test_refusals(case: RouteInputs, error: type[Exception], code: str) -> None:
    with pytest.raises(error) as caught:
        decide(case, TIERS)
    assert caught.value.code == code  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("case", "message"),
    [
        (
            inputs(0.5, RequestFacts(200000, 100)),
            "the prompt (200000 tokens) plus the requested max tokens (100) needs 200100 tokens, "
            "more than any eligible tier's context window (largest: 128000)",
        ),
        (
            inputs(0.5, RequestFacts(200000)),
            "the prompt (200000 tokens) needs more than any eligible tier's context window (largest: 128000)",
        ),
        (
            RouteInputs(pinned_tier="cheap", facts=RequestFacts(9000)),
            "the prompt (9000 tokens) needs more than tier cheap's context window (8192)",
        ),
        (
            RouteInputs(pinned_tier="cheap", facts=RequestFacts(8000, 500)),
            "the prompt (8000 tokens) plus the requested max tokens (500) needs 8500 tokens, "
            "more than tier cheap's context window (8192)",
        ),
    ],
)
def test_context_too_long_names_max_tokens_only_when_the_request_set_them(case: RouteInputs, message: str) -> None:
    with pytest.raises(ContextTooLong) as caught:
        decide(case, TIERS)
    assert str(caught.value) == message


def test_fallbacks_skip_tiers_that_cannot_serve() -> None:
    assert decide(inputs(0.9), TIERS).fallbacks == ("cheap",)
    assert decide(inputs(0.9, RequestFacts(9000, 10)), TIERS).fallbacks == ()


@pytest.mark.parametrize(("spent", "factor"), [(0.0, 1.0), (0.8, 1.0), (0.9, 0.5), (1.0, 0.0), (2.0, 0.0)])
def test_budget_share_factor(spent: float, factor: float) -> None:
    assert BudgetSnapshot("g", 1.0, spent).share_factor == pytest.approx(factor)


CFG = BreakerConfig(failure_threshold=3, error_rate=0.5, min_calls=4, window_s=10, cooldown_s=5)


def run(results: list[bool], start: float = 0.0, step: float = 0.1) -> BreakerSnapshot:
    snapshot = BreakerSnapshot(window_start=start)
    for i, ok in enumerate(results):
        snapshot = on_result(snapshot, ok, CFG, start + i * step)
    return snapshot


@pytest.mark.parametrize(
    ("results", "state"),
    [
        ([False, False], "closed"),
        ([False, False, False], "open"),  # consecutive failures
        ([False, True, False, True, False], "closed"),  # 3/5 failed but never 3 in a row... rate:
        ([True, False, True, False, False, True, False], "open"),  # 4/7 >= 0.5 over >= 4 calls
        ([True] * 10, "closed"),
    ],
)
def test_breaker_opens(results: list[bool], state: str) -> None:
    snapshot = run(results)
    if state == "closed" and results == [False, True, False, True, False]:
        state = "open"  # 3/5 = 0.6 >= 0.5 with >= 4 calls: the rate trips it
    assert breaker_state(snapshot, CFG, 1.0) == state


def test_breaker_cools_down_probes_and_closes_or_reopens() -> None:
    opened = run([False, False, False])
    assert breaker_state(opened, CFG, 1.0) == "open"
    assert breaker_state(opened, CFG, 5.3) == "half_open"
    closed = on_result(opened, True, CFG, 5.3)
    assert breaker_state(closed, CFG, 5.3) == "closed" and closed.consecutive_failures == 0
    reopened = on_result(opened, False, CFG, 5.3)
    assert breaker_state(reopened, CFG, 5.4) == "open"
    assert breaker_state(reopened, CFG, 10.4) == "half_open"


def test_breaker_window_resets() -> None:
    snapshot = run([True, True, True, False], start=0.0)
    later = on_result(snapshot, False, CFG, 20.0)
    assert later.window_calls == 1 and later.window_failures == 1
    assert breaker_state(later, CFG, 20.0) == "closed"
