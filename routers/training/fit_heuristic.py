"""Refit the ``heuristic`` router's weights on the training split (offline, scikit-learn).

    python -m routers.training.fit_heuristic --data routers/data/routing/routing-train.jsonl

prints the ``_BIAS`` and ``_WEIGHTS`` (rounded to 4 decimals) to paste into
``routers/heuristic.py`` (the router itself stays dependency-free), rewrites
``routers/artifacts/heuristic.calibration.json`` from out-of-fold scores and writes
``heuristic.card.json`` beside it (with dev metrics of the rounded weights if ``--dev``).
Same target as the learned routers (``routers.training.fit``).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from routers.calibration import Calibration
from routers.evaluation import metrics_by_source
from routers.heuristic import features
from routers.registry import ARTIFACTS_DIR
from routers.training.card import make_card, sha256
from routers.training.data import load_training, read_jsonl, row_text
from routers.training.fit import fit_soft_logistic, out_of_fold_logits, sigmoid

C = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--dev", type=Path, help="labelled JSONL whose metrics go into the card")
    parser.add_argument("--out", type=Path, default=ARTIFACTS_DIR / "heuristic.calibration.json")
    args = parser.parse_args()
    ts = load_training(args.data, None)
    texts, p = ts.texts, ts.target
    names = list(features(""))
    x = _matrix(texts, names)
    w, b = fit_soft_logistic(x, p, C)
    w, b = np.round(w, 4), round(b, 4)
    print(f"_BIAS = {b:.4f}")
    print("_WEIGHTS = {" + ", ".join(f'"{k}": {v:.4f}' for k, v in zip(names, w, strict=True)) + "}")
    calibration = Calibration.from_scores([float(v) for v in sigmoid(out_of_fold_logits(x, p, C))])
    calibration.dump(args.out)
    params = {"C": C, "bias": b, "weights": dict(zip(names, (float(v) for v in w), strict=True))}
    card = make_card("heuristic", args.data, None, ts, params, calibration)
    if args.dev is not None:
        rows = read_jsonl(args.dev)
        scores = sigmoid(_matrix([row_text(r) for r in rows], names) @ w + b)
        metrics = metrics_by_source([float(v) for v in scores], rows)
        card["dev"] = {"data": args.dev.name, "sha256": sha256(args.dev), "metrics": metrics}
    write_card_file(args.out.with_name("heuristic.card.json"), card)
    print(f"wrote {args.out} and heuristic.card.json")


def _matrix(texts: list[str], names: list[str]) -> np.ndarray[Any, np.dtype[np.float64]]:
    return np.asarray([[features(t)[k] for k in names] for t in texts], dtype=np.float64)


def write_card_file(path: Path, card: dict[str, Any]) -> None:
    path.write_text(json.dumps(card, indent=1) + "\n")


if __name__ == "__main__":
    main()
