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
