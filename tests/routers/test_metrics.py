"""The routing metrics on hand-computed cases."""

from __future__ import annotations

import math

import pytest

from routers.metrics import apgr, cpt, evaluate, gain_curve, pgr_curve, quality_curve, share_for_quality

# Four prompts; gains strong - weak = [1, 0, 1, 0]; total gain 2; q_weak = 0.25, q_strong = 0.75.
STRONG = [1.0, 1.0, 1.0, 0.0]
WEAK = [0.0, 1.0, 0.0, 0.0]


def test_perfect_order() -> None:
    scores = [0.9, 0.1, 0.8, 0.2]  # routes the two gaining prompts first
    assert list(pgr_curve(scores, STRONG, WEAK)) == [0.0, 0.5, 1.0, 1.0, 1.0]
    # trapezoid: (0 + .5)/2 + (.5 + 1)/2 + 1 + 1, over 4 intervals
    assert apgr(scores, STRONG, WEAK) == pytest.approx((0.25 + 0.75 + 1 + 1) / 4)
    assert cpt(scores, STRONG, WEAK, 0.5) == 0.25
    assert cpt(scores, STRONG, WEAK, 0.8) == 0.5
    assert list(quality_curve(scores, STRONG, WEAK)) == pytest.approx([0.25, 0.5, 0.75, 0.75, 0.75])


def test_worst_order() -> None:
    scores = [0.1, 0.9, 0.2, 0.8]
    assert list(pgr_curve(scores, STRONG, WEAK)) == [0.0, 0.0, 0.0, 0.5, 1.0]
    assert apgr(scores, STRONG, WEAK) == pytest.approx((0 + 0 + 0.25 + 0.75) / 4)
    assert cpt(scores, STRONG, WEAK, 0.5) == 0.75
    assert cpt(scores, STRONG, WEAK, 0.8) == 1.0


def test_ties_are_routed_together_as_random() -> None:
    constant = [0.5, 0.5, 0.5, 0.5]
    assert list(gain_curve(constant, STRONG, WEAK)) == pytest.approx([0.0, 0.5, 1.0, 1.5, 2.0])
    assert apgr(constant, STRONG, WEAK) == pytest.approx(0.5)
    # a tie block between two distinct scores: [0.9] then {0.5, 0.5} then [0.1]
    scores = [0.9, 0.5, 0.5, 0.1]  # gains in that order: 1, then {0, 1} then 0
    assert list(gain_curve(scores, STRONG, WEAK)) == pytest.approx([0.0, 1.0, 1.5, 2.0, 2.0])


def test_share_for_quality() -> None:
    scores = [0.9, 0.1, 0.8, 0.2]
    # q_strong = 0.75, 95% of it = 0.7125: reached at k = 2 (q = 0.75)
    assert share_for_quality(scores, STRONG, WEAK, 0.95) == 0.5
    assert share_for_quality(scores, STRONG, WEAK, 0.5) == 0.25  # 0.375 <= q(1) = 0.5


def test_weak_wins_gives_pgr_above_one_and_nan_when_undefined() -> None:
    strong, weak = [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]  # total gain 1
    assert max(pgr_curve([0.9, 0.1, 0.8], strong, weak)) == pytest.approx(2.0)
    assert math.isnan(apgr([0.1, 0.2], [0.0, 0.0], [1.0, 0.0]))
    assert math.isnan(cpt([0.1, 0.2], [0.5, 0.5], [0.5, 0.5], 0.5))


def test_evaluate_and_validation() -> None:
    m = evaluate([0.9, 0.1, 0.8, 0.2], STRONG, WEAK)
    assert (m.n, m.cpt50, m.cpt80, m.share_for_95) == (4, 0.25, 0.5, 0.5)
    assert m.as_dict()["apgr"] == pytest.approx(0.75)
    with pytest.raises(ValueError):
        evaluate([], [], [])
    with pytest.raises(ValueError):
        evaluate([0.1], [1.0, 0.0], [0.0, 0.0])


def test_roc_auc_with_ties_and_missing_labels() -> None:
    from routers.metrics import roc_auc

    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    assert roc_auc([0.5, 0.5], [0, 1]) == pytest.approx(0.5)
    assert math.isnan(roc_auc([0.1, 0.2], [1, 1]))
