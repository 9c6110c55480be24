"""``triage quality report``: the cost-quality curve of a profile's router on this deployment's traffic.

From outcome rows (the store, or an exported ``--data`` file in routing-train's schema):
the profile's router scores each stored prompt; sending the top share of prompts to the
frontier gives the quality curve, from which APGR, CPT(50%), the frontier share needed
for 90/95/99% of all-frontier quality and the recommended ``frontier_share`` for
``--target-quality`` follow. Cost per 1k requests at a share is priced with the tiers'
prices at the prompts' estimated tokens plus ``budget.expected_output_tokens``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.request.cost import Usage, cost_usd
from gateway.settings import Settings
from routers.base import Router
from routers.metrics import apgr, cpt, quality_curve, share_for_quality

FRACTIONS = (0.90, 0.95, 0.99)


@dataclass(frozen=True, slots=True)
class QualityReport:
    profile: str
    router: str
    rows: int
    apgr: float
    cpt50: float
    share_for: dict[str, float]  # "0.95" → the least frontier share reaching it
    cost_per_1k: dict[str, float]  # the same keys, plus "all_cheap" and "all_frontier"
    recommended_share: float
    target_quality: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "profile": self.profile,
            "router": self.router,
            "rows": self.rows,
            "apgr": self.apgr,
            "cpt50": self.cpt50,
            "share_for_quality": self.share_for,
            "cost_per_1k_requests_usd": self.cost_per_1k,
            "target_quality": self.target_quality,
            "recommended_frontier_share": self.recommended_share,
        }


def _cost_per_1k(settings: Settings, profile: str, rows: Sequence[dict[str, Any]], share: float) -> float:
    from gateway.request.cost import resolve_price

    view = settings.profiles[profile]
    cheap = resolve_price(view.cheap_tier, settings.tiers[view.cheap_tier])
    frontier = resolve_price(view.frontier_tier, settings.tiers[view.frontier_tier])
    out = settings.budget.expected_output_tokens
    per = [Usage(max(len(str(r["prompt"])) // 4, 1), out) for r in rows]
    cheap_cost = sum(cost_usd(cheap, u) for u in per) / len(per)
    frontier_cost = sum(cost_usd(frontier, u) for u in per) / len(per)
    return 1000 * (share * frontier_cost + (1 - share) * cheap_cost)


def build_report(
    settings: Settings,
    profile: str,
    router: Router,
    scores: Sequence[float],
    rows: Sequence[dict[str, Any]],
    target: float,
) -> QualityReport:
    strong = [float(r["strong_score"]) for r in rows]
    weak = [float(r["weak_score"]) for r in rows]
    shares = {f"{f:.2f}": share_for_quality(scores, strong, weak, f) for f in FRACTIONS}
    recommended = share_for_quality(scores, strong, weak, target)
    costs = {key: _cost_per_1k(settings, profile, rows, s) for key, s in shares.items() if not math.isnan(s)}
    costs["all_cheap"] = _cost_per_1k(settings, profile, rows, 0.0)
    costs["all_frontier"] = _cost_per_1k(settings, profile, rows, 1.0)
    return QualityReport(
        profile=profile,
        router=router.name,
        rows=len(rows),
        apgr=apgr(scores, strong, weak),
        cpt50=cpt(scores, strong, weak, 0.5),
        share_for=shares,
        cost_per_1k=costs,
        recommended_share=recommended,
        target_quality=target,
    )


def plot(report: QualityReport, scores: Sequence[float], rows: Sequence[dict[str, Any]], out: Path) -> None:
    """The quality curve (share of all-frontier quality against frontier share) as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    strong = [float(r["strong_score"]) for r in rows]
    weak = [float(r["weak_score"]) for r in rows]
    curve = quality_curve(scores, strong, weak)
    top = sum(strong) / len(strong) or 1.0
    xs = [k / (len(curve) - 1) for k in range(len(curve))]
    figure, axis = plt.subplots(figsize=(6, 4))
    axis.plot(xs, [q / top for q in curve], label=f"{report.router} (APGR {report.apgr:.3f})")
    axis.plot([0, 1], [curve[0] / top, curve[-1] / top], linestyle="--", label="random")
    axis.axhline(report.target_quality, color="grey", linewidth=0.8)
    if not math.isnan(report.recommended_share):
        axis.axvline(report.recommended_share, color="grey", linewidth=0.8, linestyle=":")
    axis.set_xlabel("frontier share")
    axis.set_ylabel("share of all-frontier quality")
    axis.set_title(f"profile {report.profile}: {report.rows} judged requests")
    axis.legend(loc="lower right")
    figure.tight_layout()
    figure.savefig(out, dpi=120)
    plt.close(figure)
