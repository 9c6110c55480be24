"""Calibration: monotone quantiles and thresholds, for every shipped artifact."""

from __future__ import annotations

import itertools

import pytest

from routers.artifact import load_calibration, load_card
from routers.calibration import Calibration
from routers.registry import ARTIFACTS_DIR

LEARNED = ("ngram", "static", "ensemble", "embedding")


def _check_monotone(cal: Calibration) -> None:
    assert len(cal.quantiles) == 101
    assert all(b >= a for a, b in zip(cal.quantiles, cal.quantiles[1:], strict=False))
    thresholds = [cal.threshold_for_share(s / 100) for s in range(0, 101)]
    assert all(b <= a for a, b in itertools.pairwise(thresholds))
    assert cal.quantiles[0] >= 0.0 and cal.quantiles[-1] <= 1.0


def test_heuristic_calibration() -> None:
    _check_monotone(Calibration.load(ARTIFACTS_DIR / "heuristic.calibration.json"))


@pytest.mark.parametrize("name", LEARNED)
def test_learned_calibration_and_card(name: str) -> None:
    folder = ARTIFACTS_DIR / name
    assert (folder / "calibration.json").exists(), f"{name} has no artifact"
    cal = load_calibration(folder)
    _check_monotone(cal)
    card = load_card(folder)
    table = card["calibration"]["thresholds"]
    assert sorted(table) == [f"{0.05 * i:.2f}" for i in range(1, 20)]
    for share, threshold in table.items():
        assert threshold == pytest.approx(cal.threshold_for_share(float(share)))
        assert abs(cal.share_at(threshold) - float(share)) <= 0.02
    for key in ("training_data", "everyday_data", "trained_at", "git_sha", "label", "dev", "everyday", "cv"):
        assert key in card
    assert card["everyday_data"]["split"] == "train" and card["everyday"]["split"] == "heldout"


def test_from_scores_is_monotone_and_rejects_bad_input() -> None:
    cal = Calibration.from_scores([0.9, 0.1, 0.5, 0.3])
    _check_monotone(cal)
    with pytest.raises(ValueError):
        Calibration((0.5, 0.4))
