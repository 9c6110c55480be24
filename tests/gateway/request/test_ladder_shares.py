"""Each rung of a ladder gets its configured share of traffic: routing-dev's 2,300 held-out prompts, ±3 points.

The profile is built as the gateway builds it (``build_profiles``: the router's calibration cut into
bands) and every prompt is decided by the policy itself. The calibration comes from the training
prompts; routing-dev was never trained or calibrated on.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from gateway.request.profiles import build_profiles, build_routers
from gateway.settings import parse_settings
from policies.decide import decide
from policies.types import RouteInputs, TierView
from routers.evaluation import read_numbered, score_rows_sync
from routers.registry import ROUTING_DEV

TIER = {"model": "openai/m", "api_base": "http://127.0.0.1:9/v1", "price": {"input_per_mtok": 1, "output_per_mtok": 1}}
LADDERS = {
    "three": (("small", 0.55), ("mid", 0.30), ("frontier", 0.15)),
    "four": (("small", 0.50), ("mid", 0.30), ("frontier", 0.15), ("thinker", 0.05)),
}
TOLERANCE = 0.03


def shares(router: str, ladder: tuple[tuple[str, float], ...]) -> dict[str, float]:
    names = ("cheap", "small", "mid", "frontier", "thinker")
    config: dict[str, Any] = {
        "tiers": {name: dict(TIER) for name in names},
        "profiles": {"p": {"router": router, "ladder": [{"tier": t, "share": s} for t, s in ladder]}},
    }
    settings = parse_settings(config)
    routers = build_routers(settings)
    profile = build_profiles(settings, routers)["p"]
    rows = [row for _, row in read_numbered(ROUTING_DEV)]
    tiers = {name: TierView(name, name) for name in names}
    counts = Counter(
        decide(RouteInputs(profile=profile.view, score=score), tiers).tier
        for score in score_rows_sync(routers["p"], rows)
    )
    assert len(rows) == 2300
    return {tier: counts[tier] / len(rows) for tier, _ in ladder}


@pytest.mark.parametrize("ladder", ["three", "four"])
@pytest.mark.parametrize("router", ["ngram", pytest.param("ensemble", marks=pytest.mark.model)])
def test_every_rung_gets_its_share_within_three_points(router: str, ladder: str) -> None:
    wanted = dict(LADDERS[ladder])
    measured = shares(router, LADDERS[ladder])
    assert all(abs(measured[t] - wanted[t]) <= TOLERANCE for t in wanted), measured
