"""Refit the ``heuristic`` router's weights on the training split (offline, scikit-learn).

    python -m routers.training.fit_heuristic --data ../shared/data/routing-train.jsonl

prints the ``_BIAS`` and ``_WEIGHTS`` to paste into ``routers/heuristic.py`` (the router
itself stays dependency-free) and rewrites ``routers/artifacts/heuristic.calibration.json``
from out-of-fold scores. Same target as the learned routers (``routers.training.fit``).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from routers.calibration import Calibration
from routers.heuristic import features
from routers.registry import ARTIFACTS_DIR
from routers.training.fit import fit_soft_logistic, out_of_fold_logits, sigmoid
from routers.training.train import labelled

C = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR / "heuristic.calibration.json")
    args = parser.parse_args()
    texts, p = labelled(args.data)
    names = list(features(""))
    x = np.asarray([[features(t)[k] for k in names] for t in texts], dtype=np.float64)
    w, b = fit_soft_logistic(x, p, C)
    print(f"_BIAS = {b:.4f}")
    print("_WEIGHTS = {" + ", ".join(f'"{k}": {v:.4f}' for k, v in zip(names, w, strict=True)) + "}")
    Calibration.from_scores([float(v) for v in sigmoid(out_of_fold_logits(x, p, C))]).dump(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
