"""Model cards: what a router artifact was trained on, when, from which commit, and how it did."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import subprocess
from pathlib import Path
from typing import Any

from routers.calibration import Calibration
from routers.training.data import DataFiles, TrainingSet, data_files
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


def make_card(
    kind: str, data: DataFiles, everyday: Path | None, ts: TrainingSet, params: dict[str, Any], calibration: Calibration
) -> dict[str, Any]:
    n_everyday = int(ts.everyday.sum())
    files = data_files(data)
    training: dict[str, Any] = {
        "path": files[0][0].name,
        "rows": len(ts.texts) - n_everyday,
        "sha256": sha256(files[0][0]),
    }
    if len(files) > 1:
        training["files"] = [{"path": p.name, "weight": w, "sha256": sha256(p)} for p, w in files]
    card: dict[str, Any] = {"router": kind, "training_data": training}
    if everyday is not None:
        card["everyday_data"] = {
            "path": everyday.name,
            "split": "train",
            "rows": n_everyday,
            "sha256": sha256(everyday),
        }
    card |= {
        "trained_at": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "git_sha": git_sha(),
        "label": (
            f"outcome rows: soft target p = (t + 1) / 2, t = {1 - SMOOTH:g} * (strong - weak) + {SMOOTH:g} * mean gap "
            "of the row's category; everyday train rows: p = p_hard. Heads outcome / everyday / domain, a "
            "domain-gated blend of their out-of-fold logits, Platt scaling on the everyday rows' out-of-fold "
            "blend logits (routers/blend.py)"
        ),
        "params": params,
        "calibration": {
            "scores": f"{FOLDS}-fold out-of-fold scores of all training prompts (outcome and everyday train)",
            "thresholds": {f"{s:.2f}": calibration.threshold_for_share(s) for s in SHARES},
        },
    }
    return card


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


def everyday_metrics(kind: str, out: Path, everyday: Path) -> dict[str, Any]:
    """Metrics of the router just written to ``out`` on the everyday held-out rows."""
    from routers.evaluation import everyday_report, score_rows_full_sync
    from routers.registry import RouterOptions, build_router
    from routers.training.data import everyday_rows

    rows = everyday_rows(everyday, "heldout")
    scores = score_rows_full_sync(build_router(kind, RouterOptions(artifacts=out.parent)), rows)
    return {
        "data": everyday.name,
        "split": "heldout",
        "sha256": sha256(everyday),
        "metrics": everyday_report(scores, rows),
    }


def write_card(out: Path, card: dict[str, Any]) -> None:
    (out / "card.json").write_text(json.dumps(card, indent=1) + "\n")
