"""Choose the heads' regularisation and the everyday weight by K-fold cross-validation (offline).

    python -m routers.training.select --data routers/data/routing/routing-train.jsonl [--everyday PATH] [--json cv.json]

Everything is measured out of fold on routing-train + the everyday train rows (never on dev,
never on the everyday held-out rows), with the folds ``routers.training.train`` uses:

- each ``everyday`` head's C by its out-of-fold ranking AUC on the everyday rows;
  (the smallest C, i.e. the most regularised, within ``TOLERANCE`` of the best AUC: 611 rows);
- each ``domain`` head's C by its out-of-fold log loss (classes weighted equally), the best;
- the everyday row weight of each router's blend by out-of-fold APGR on the outcome rows plus
  out-of-fold AUC on the everyday rows (the blend is refitted in every fold).

The ``outcome`` heads keep C = 1 (chosen by the same CV before the everyday data existed).
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from routers.training.data import EVERYDAY, TrainingSet, load_training
from routers.training.fit import out_of_fold_logits, roc_auc, sigmoid
from routers.training.heads import OUTCOME_C, Hyper, specs
from routers.training.train import TrainJob, cv_metrics, fit_blend

EVERYDAY_CS = {"ngram": (3.0, 10.0, 30.0, 100.0), "static": (1.0, 3.0, 10.0)}
DOMAIN_CS = {"ngram": (10.0, 100.0), "static": (1.0, 10.0)}
WEIGHTS = (0.3, 1.0, 3.0, 10.0)
TOLERANCE = 0.005  # everyday heads: the most regularised C within this much AUC of the best


def features(kind: str, ts: TrainingSet) -> Any:
    if kind == "ngram":
        from routers.training.ngram_features import ngram_idf, ngram_matrix

        return ngram_matrix(ts.texts, ngram_idf(ts.texts))
    from routers.registry import ARTIFACTS_DIR
    from routers.static import StaticEncoder

    return StaticEncoder.load(ARTIFACTS_DIR / "static").encode(ts.texts)


def log_loss(z: NDArray[np.float64], y: NDArray[np.float64], w: NDArray[np.float64]) -> float:
    p = np.clip(sigmoid(z), 1e-9, 1 - 1e-9)
    return float(-(w * (y * np.log(p) + (1 - y) * np.log(1 - p))).sum() / w.sum())


def _pick(values: dict[float, float], tolerance: float) -> float:
    """The smallest C (the most regularised) whose score is within ``tolerance`` of the best."""
    best = max(values.values())
    return min(c for c, v in values.items() if v >= best - tolerance)


def select_member(kind: str, ts: TrainingSet, seed: int) -> tuple[dict[str, Any], dict[str, NDArray[np.float64]]]:
    """CV of the everyday and domain heads of one member; returns the table and the chosen heads' logits."""
    x = features(kind, ts)
    outcome, everyday, domain = specs(kind, ts, Hyper())
    auc: dict[float, float] = {}
    loss: dict[float, float] = {}
    logits: dict[tuple[str, float], NDArray[np.float64]] = {}
    for c in EVERYDAY_CS[kind]:
        z = logits["everyday", c] = out_of_fold_logits(x, everyday.target, c, seed, weight=everyday.weight)
        auc[c] = roc_auc(z[ts.everyday], ts.label[ts.everyday])
        print(f"{kind}.everyday C={c:g}: out-of-fold AUC {auc[c]:.4f}", flush=True)
    for c in DOMAIN_CS[kind]:
        z = logits["domain", c] = out_of_fold_logits(x, domain.target, c, seed, weight=domain.weight)
        loss[c] = log_loss(z, domain.target, domain.weight)
        print(f"{kind}.domain C={c:g}: out-of-fold log loss {loss[c]:.4f}", flush=True)
    chosen = {"everyday": _pick(auc, TOLERANCE), "domain": min(loss, key=lambda c: loss[c])}
    heads = {f"{kind}.outcome": out_of_fold_logits(x, outcome.target, OUTCOME_C[kind], seed, weight=outcome.weight)}
    heads |= {f"{kind}.{name}": logits[name, c] for name, c in chosen.items()}
    table = {"everyday_auc": auc, "domain_log_loss": loss, "chosen": {f"{n}_C": c for n, c in chosen.items()}}
    return table, heads


def select_weight(kind: str, heads: dict[str, NDArray[np.float64]], ts: TrainingSet, job: TrainJob) -> dict[str, Any]:
    rows: dict[float, dict[str, float]] = {}
    for w in WEIGHTS:
        blended = fit_blend(kind, heads, ts, replace(job, everyday_weight=w))
        rows[w] = cv_metrics(blended.oof_logits, ts, blended.blend.platt)
        print(f"{kind} everyday weight {w:g}: " + ", ".join(f"{k} {v:.4f}" for k, v in rows[w].items()), flush=True)
    chosen = max(WEIGHTS, key=lambda w: rows[w]["outcome_apgr"] + rows[w]["everyday_auc"])
    return {"by_weight": rows, "chosen": chosen}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--everyday", type=Path, default=EVERYDAY)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, help="write the CV tables here")
    args = parser.parse_args()
    ts = load_training(args.data, args.everyday)
    report: dict[str, Any] = {}
    heads: dict[str, NDArray[np.float64]] = {}
    for kind in ("ngram", "static"):
        report[kind], member = select_member(kind, ts, args.seed)
        heads |= member
    for kind in ("ngram", "static", "ensemble"):
        job = TrainJob(kind, args.data, Path("."), seed=args.seed, write=False, everyday=args.everyday)
        report[f"{kind}_blend"] = select_weight(kind, heads, ts, job)
    if args.json:
        args.json.write_text(json.dumps(report, indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
