"""Model cards: what a router artifact was trained on, when, from which commit, and how it did."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from routers.calibration import Calibration
from routers.training.fit import FOLDS, SMOOTH

SHARES = [round(0.05 * i, 2) for i in range(1, 20)]


def git_sha() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True, timeout=10)
        return out.stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_card(kind: str, data: Path, rows: int, params: dict[str, Any], calibration: Calibration) -> dict[str, Any]:
    return {
        "router": kind,
        "training_data": {"path": data.name, "rows": rows, "sha256": sha256(data)},
        "trained_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_sha": git_sha(),
        "label": (
            f"soft target p = (t + 1) / 2, t = {1 - SMOOTH:g} * (strong - weak) + {SMOOTH:g} * mean gap of the "
            "row's category (training split only); logistic regression on soft labels"
        ),
        "params": params,
        "calibration": {
            "scores": f"{FOLDS}-fold out-of-fold scores of the training prompts",
            "thresholds": {f"{s:.2f}": calibration.threshold_for_share(s) for s in SHARES},
        },
    }


def dev_metrics(kind: str, out: Path, dev: Path) -> dict[str, Any]:
    """Metrics of the router just written to ``out`` (loaded as the gateway would) on ``dev``."""
    from routers.evaluation import metrics_by_source, score_rows_sync
    from routers.registry import RouterOptions, build_router
    from routers.training.data import read_jsonl

    if out.name != kind:
        raise ValueError(f"the artifact folder must be named {kind!r} to be loaded for evaluation")
    rows = read_jsonl(dev)
    scores = score_rows_sync(build_router(kind, RouterOptions(artifacts=out.parent)), rows)
    return {"data": dev.name, "sha256": sha256(dev), "metrics": metrics_by_source(scores, rows)}


def write_card(out: Path, card: dict[str, Any]) -> None:
    (out / "card.json").write_text(json.dumps(card, indent=1) + "\n")
