"""Calibration: turning a target frontier share into a score threshold.

A profile says ``frontier_share: 0.3`` ("about 30% of traffic to the frontier"). The
router's calibration holds the quantiles of its scores on the training prompts, so
the threshold for a share ``s`` is the score at quantile ``1 - s``. A ladder of more rungs
cuts the same scores into bands, one per rung (``band_thresholds``).
"""

from __future__ import annotations

import bisect
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Calibration:
    """Score quantiles, evenly spaced from quantile 0 to quantile 1, non-decreasing."""

    quantiles: tuple[float, ...]

    def __post_init__(self) -> None:
        if len(self.quantiles) < 2:
            raise ValueError("a calibration needs at least two quantiles")
        if any(b < a for a, b in zip(self.quantiles, self.quantiles[1:], strict=False)):
            raise ValueError("calibration quantiles must be non-decreasing")

    @classmethod
    def uniform(cls, points: int = 101) -> Calibration:
        """The calibration of a score that is uniform on [0, 1]."""
        return cls(tuple(i / (points - 1) for i in range(points)))

    @classmethod
    def from_scores(cls, scores: list[float], points: int = 101) -> Calibration:
        ordered = sorted(scores)
        if not ordered:
            raise ValueError("cannot calibrate on no scores")
        last = len(ordered) - 1
        return cls(tuple(ordered[round(i * last / (points - 1))] for i in range(points)))

    @classmethod
    def load(cls, path: Path) -> Calibration:
        data = json.loads(path.read_text())
        return cls(tuple(float(q) for q in data["quantiles"]))

    def dump(self, path: Path) -> None:
        path.write_text(json.dumps({"quantiles": list(self.quantiles)}, indent=1) + "\n")

    def threshold_for_share(self, share: float) -> float:
        """The score at or above which about ``share`` of traffic scores.

        ``share`` 0 gives a threshold above every score (nothing to the frontier);
        ``share`` 1 gives 0 (everything to the frontier).
        """
        if share <= 0.0:
            return float("inf")
        if share >= 1.0:
            return 0.0
        position = (1.0 - share) * (len(self.quantiles) - 1)
        low = int(position)
        frac = position - low
        high = min(low + 1, len(self.quantiles) - 1)
        return self.quantiles[low] + frac * (self.quantiles[high] - self.quantiles[low])

    def band_thresholds(self, shares: Sequence[float]) -> tuple[float, ...]:
        """The lower score bound of every rung above the first, for rungs with these shares (cheapest first).

        Rung ``i`` takes the scores at or above its bound and below the next rung's; its bound is the
        threshold for the share of all rungs from ``i`` up, so each rung gets about its own share of the
        calibration prompts. Two rungs ``(1 - s, s)`` give ``(threshold_for_share(s),)``.
        """
        return tuple(self.threshold_for_share(math.fsum(shares[i:])) for i in range(1, len(shares)))

    def share_at(self, threshold: float) -> float:
        """The fraction of calibration scores at or above ``threshold``."""
        index = bisect.bisect_left(self.quantiles, threshold)
        return 1.0 - index / (len(self.quantiles) - 1) if index < len(self.quantiles) else 0.0
