"""The cost-quality plot: quality against frontier share, one curve per router (matplotlib)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any


def cost_quality_plot(
    scores: Mapping[str, Sequence[float]], rows: Sequence[dict[str, Any]], out: Path, title: str = ""
) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    from routers.metrics import apgr, quality_curve

    strong = [float(r["strong_score"]) for r in rows]
    weak = [float(r["weak_score"]) for r in rows]
    shares = np.linspace(0.0, 1.0, len(rows) + 1)
    fig, ax = plt.subplots(figsize=(7, 5), dpi=120)
    q_weak, q_strong = float(np.mean(weak)), float(np.mean(strong))
    ax.plot([0, 1], [q_weak, q_strong], "k--", lw=1, label="random (expected), APGR 0.500")
    for name, values in scores.items():
        curve = quality_curve(values, strong, weak)
        ax.plot(shares, curve, lw=1.5, label=f"{name}, APGR {apgr(values, strong, weak):.3f}")
    ax.axhline(0.95 * q_strong, color="grey", lw=0.8, ls=":", label="95% of frontier quality")
    ax.set_xlabel("share of prompts sent to the frontier model")
    ax.set_ylabel("mean quality")
    ax.set_title(f"Cost-quality curve {title}".strip())
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def calibration_plot(name: str, scores: Sequence[float], labels: Sequence[int], platt: Any, out: Path) -> None:
    """Left: score histograms of easy and hard prompts (everyday held-out). Right: the Platt map
    from blend logit to score, with the share of hard prompts per score bin on the same rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5), dpi=120)
    bins = np.linspace(0.0, 1.0, 21)
    left.hist(s[y == 0], bins=bins, alpha=0.6, color="tab:green", label=f"easy (label 0), n={int((y == 0).sum())}")
    left.hist(s[y == 1], bins=bins, alpha=0.6, color="tab:red", label=f"hard (label 1), n={int((y == 1).sum())}")
    left.set_xlabel(f"{name} score")
    left.set_ylabel("prompts")
    left.set_title("Everyday held-out: score by label")
    left.legend(fontsize=8)
    if platt is not None:
        clipped = np.clip(s, 1e-6, 1 - 1e-6)
        z = np.asarray([platt.inverse(float(v)) for v in clipped])
        grid = np.linspace(min(z.min(), -3.0), max(z.max(), 3.0), 200)
        right.plot(
            grid, [platt(float(g)) for g in grid], "k-", lw=1.5, label=f"Platt: a={platt.a:.2f}, b={platt.b:.2f}"
        )
        edges = np.quantile(z, np.linspace(0, 1, 9))
        which = np.clip(np.searchsorted(edges, z, side="right") - 1, 0, len(edges) - 2)
        centres = [float(z[which == k].mean()) for k in range(len(edges) - 1) if (which == k).any()]
        rates = [float(y[which == k].mean()) for k in range(len(edges) - 1) if (which == k).any()]
        right.plot(centres, rates, "o", color="tab:blue", label="share hard per octile (held-out)")
        right.set_xlabel("blend logit")
    right.set_ylabel("score / share hard")
    right.set_title("Platt map (fitted on everyday train, out of fold)")
    right.grid(alpha=0.3)
    right.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
