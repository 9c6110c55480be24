"""Ladders: a profile's tiers ordered cheapest first, cut into score bands, and walked in a fixed order.

A ladder of rungs ``r0 < r1 < ... < rN`` (cheapest first) with shares ``s0 .. sN`` is one
router score cut into bands: rung ``i`` takes the scores at or above its lower bound and below
the next rung's, each bound calibrated so that the rungs from ``i`` up get ``si + ... + sN`` of
the calibration prompts (``routers.calibration.Calibration.band_thresholds``). A two-tier
profile is the two-rung ladder ``(cheap, frontier)``.

Moving along the ladder always follows one order, ``walk``: the rungs above first, nearest
first, then the rungs below, nearest first. A rung dropped for its context window or
capabilities, or skipped for an open breaker, moves the request to the first eligible rung
of that walk; fallbacks are the same walk. A budget degrades the other way (``walk`` with
``up_first=False``): to the nearest cheaper rung that fits.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Sequence


def band(score: float, bounds: Sequence[float]) -> int:
    """The rung a score falls in: how many rungs' lower bounds it reaches (``bounds`` non-decreasing)."""
    return bisect.bisect_right(bounds, score)


def shrink(shares: Sequence[float], factor: float) -> tuple[float, ...]:
    """The shares with everything above the bottom rung scaled by ``factor``, taken from the top rung first.

    The upper rungs together keep ``factor`` of their share; it is handed out from the lowest upper
    rung up, so the top rung loses its share first, then the one below it. The bottom rung gets the
    rest. For two rungs ``(1 - s, s)`` the top keeps exactly ``s * factor``.
    """
    upper = math.fsum(shares[1:])
    remaining = upper * factor
    kept: list[float] = []
    for share in shares[1:]:
        given = min(share, remaining)
        kept.append(given)
        remaining = max(remaining - given, 0.0)
    return (shares[0] + upper - math.fsum(kept), *kept)


def walk(index: int, count: int, up_first: bool = True) -> tuple[int, ...]:
    """The other rungs in the order a request moves to them: up (nearest first), then down (nearest first)."""
    up = tuple(range(index + 1, count))
    down = tuple(range(index - 1, -1, -1))
    return up + down if up_first else down + up


def describe(shares: Sequence[float]) -> str:
    """Shares as ``0.55/0.30/0.15``."""
    return "/".join(f"{share:.2f}" for share in shares)
