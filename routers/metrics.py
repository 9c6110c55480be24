"""Routing metrics as RouteLLM defines them (numpy only).

Routing the ``k`` highest-scoring of ``n`` prompts to the frontier gives quality
``q(k) = mean(weak) + sum(strong - weak over the routed prompts) / n``.

- PGR (performance gap recovered) at share ``k/n``: ``(q(k) - q_weak) / (q_strong - q_weak)``.
- APGR: the area under PGR against the frontier share, from 0 to 1 (trapezoid rule on
  the ``n + 1`` points ``k/n``).
- CPT(x) (call-performance threshold): the least frontier share whose PGR reaches ``x``.
- Share for 95% quality: the least frontier share whose quality reaches 95% of ``q_strong``.

Ties in the score are routed together: inside a block of equal scores the curve is the
straight line between the block's ends, i.e. the expected curve under a random order of
the tied prompts. So a constant score gives the random-routing line, whatever the input order.
If ``q_strong <= q_weak`` PGR is undefined and the PGR metrics are NaN.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]


@dataclass(frozen=True, slots=True)
class RoutingMetrics:
    """The summary of one router on one labelled set."""

    n: int
    apgr: float
    cpt50: float
    cpt80: float
    share_for_95: float

    def as_dict(self) -> dict[str, float]:
        return {
            "n": self.n,
            "apgr": self.apgr,
            "cpt50": self.cpt50,
            "cpt80": self.cpt80,
            "share_for_95": self.share_for_95,
        }


def _arrays(scores: Sequence[float], strong: Sequence[float], weak: Sequence[float]) -> tuple[FloatArray, ...]:
    s = np.asarray(scores, dtype=np.float64)
    hi = np.asarray(strong, dtype=np.float64)
    lo = np.asarray(weak, dtype=np.float64)
    if not (s.shape == hi.shape == lo.shape) or s.ndim != 1 or s.size == 0:
        raise ValueError("scores, strong and weak must be non-empty 1-D sequences of equal length")
    return s, hi, lo


def gain_curve(scores: Sequence[float], strong: Sequence[float], weak: Sequence[float]) -> FloatArray:
    """Cumulative quality gain ``sum(strong - weak)`` of the top ``k`` prompts, for k = 0..n."""
    s, hi, lo = _arrays(scores, strong, weak)
    order = np.argsort(-s, kind="stable")
    ordered = s[order]
    cum = np.concatenate([[0.0], np.cumsum((hi - lo)[order])])
    # Ends of tie blocks: positions k where the score changes (plus 0 and n).
    ends = np.concatenate([[0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1, [s.size]])
    ks = np.arange(s.size + 1, dtype=np.float64)
    return np.asarray(np.interp(ks, ends.astype(np.float64), cum[ends]), dtype=np.float64)


def quality_curve(scores: Sequence[float], strong: Sequence[float], weak: Sequence[float]) -> FloatArray:
    """Mean quality when the top ``k`` prompts go to the frontier, for k = 0..n."""
    _, _, lo = _arrays(scores, strong, weak)
    return float(lo.mean()) + gain_curve(scores, strong, weak) / lo.size


def pgr_curve(scores: Sequence[float], strong: Sequence[float], weak: Sequence[float]) -> FloatArray:
    """PGR at shares k/n, k = 0..n (NaN everywhere when the frontier is not better)."""
    _, hi, lo = _arrays(scores, strong, weak)
    total = float((hi - lo).sum())
    gain = gain_curve(scores, strong, weak)
    if total <= 0.0:
        return np.full_like(gain, np.nan)
    return gain / total


def apgr(scores: Sequence[float], strong: Sequence[float], weak: Sequence[float]) -> float:
    pgr = pgr_curve(scores, strong, weak)
    if np.isnan(pgr).any():
        return float("nan")
    return float(((pgr[1:] + pgr[:-1]) / 2.0).mean())


def _first_share(reached: NDArray[np.bool_]) -> float:
    hits = np.flatnonzero(reached)
    return float(hits[0] / (reached.size - 1)) if hits.size else float("nan")


def cpt(scores: Sequence[float], strong: Sequence[float], weak: Sequence[float], target: float) -> float:
    """The least frontier share whose PGR reaches ``target`` (e.g. 0.5 for CPT(50%))."""
    pgr = pgr_curve(scores, strong, weak)
    if np.isnan(pgr).any():
        return float("nan")
    return _first_share(pgr >= target - 1e-12)


def share_for_quality(
    scores: Sequence[float], strong: Sequence[float], weak: Sequence[float], fraction: float = 0.95
) -> float:
    """The least frontier share whose quality reaches ``fraction`` of the frontier model's quality."""
    _, hi, _ = _arrays(scores, strong, weak)
    quality = quality_curve(scores, strong, weak)
    return _first_share(quality >= fraction * float(hi.mean()) - 1e-12)


def evaluate(scores: Sequence[float], strong: Sequence[float], weak: Sequence[float]) -> RoutingMetrics:
    return RoutingMetrics(
        n=len(scores),
        apgr=apgr(scores, strong, weak),
        cpt50=cpt(scores, strong, weak, 0.5),
        cpt80=cpt(scores, strong, weak, 0.8),
        share_for_95=share_for_quality(scores, strong, weak, 0.95),
    )


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Ranking AUC: P(a random hard prompt (label 1) scores above a random easy one); ties count half.

    NaN when either label is missing.
    """
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if s.shape != y.shape or s.ndim != 1:
        raise ValueError("scores and labels must be 1-D sequences of equal length")
    pos, neg = int((y == 1).sum()), int((y == 0).sum())
    if pos == 0 or neg == 0:
        return float("nan")
    order = np.argsort(s, kind="stable")
    ranks = np.empty(s.size, dtype=np.float64)
    sorted_s = s[order]
    # average ranks (1-based) over tie blocks
    starts = np.concatenate([[0], np.flatnonzero(sorted_s[1:] != sorted_s[:-1]) + 1])
    ends = np.concatenate([starts[1:], [s.size]])
    for a, b in zip(starts, ends, strict=True):
        ranks[order[a:b]] = (a + b + 1) / 2.0
    return float((ranks[y == 1].sum() - pos * (pos + 1) / 2.0) / (pos * neg))
