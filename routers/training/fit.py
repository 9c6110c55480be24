"""The training target and the logistic fit shared by every learned router.

Target (the label): the frontier's expected gain on a prompt, ``gap = strong - weak`` in
[-1, 1], smoothed toward the mean gap of the prompt's ``category`` (MMLU subject, GSM8K,
MT-Bench category; a training-only field, never seen at run time):
``t = (1 - SMOOTH) * gap + SMOOTH * mean_gap(category)``. Single outcomes are one noisy
sample each; the category mean is a far less noisy estimate of the same expectation.
The soft label ``p = (t + 1) / 2`` is fitted by logistic regression (each row twice, as a
positive with weight ``p`` and a negative with weight ``1 - p``). Ranking by the logit
ranks by the estimated gain, which is what APGR rewards.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

SMOOTH = 0.7
FOLDS = 5

Matrix = Any  # a numpy array or a scipy sparse matrix
FitFn = Callable[[Matrix, NDArray[np.float64]], Any]


def soft_target(
    strong: Sequence[float], weak: Sequence[float], categories: Sequence[str], smooth: float = SMOOTH
) -> NDArray[np.float64]:
    """The soft label ``p`` in [0, 1] described in the module docstring."""
    gap = np.asarray(strong, dtype=np.float64) - np.asarray(weak, dtype=np.float64)
    groups: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(categories):
        groups[c].append(i)
    cat_mean = np.empty_like(gap)
    for rows in groups.values():
        cat_mean[rows] = gap[rows].mean()
    return np.clip(((1.0 - smooth) * gap + smooth * cat_mean + 1.0) / 2.0, 0.0, 1.0)


def fit_soft_logistic(
    x: Matrix, p: NDArray[np.float64], c: float, seed: int = 0, weight: NDArray[np.float64] | None = None
) -> tuple[NDArray[np.float64], float]:
    """Logistic regression on soft labels (rows with zero ``weight`` are left out); (weights, bias)."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    w = np.ones(x.shape[0]) if weight is None else np.asarray(weight, dtype=np.float64)
    rows = np.flatnonzero(w > 0)
    x, p, w = x[rows], p[rows], w[rows]
    n = x.shape[0]
    mean = float(np.average(p, weights=w)) if n else 0.5
    if n < 2 or float(np.ptp(p)) == 0.0 or mean <= 0.0 or mean >= 1.0:
        # nothing to learn (no rows, e.g. outcome data without everyday rows, or one target value):
        # a constant head at the rows' mean, so the blend can weigh it to nothing
        clipped = min(max(mean, 1e-3), 1 - 1e-3)
        return np.zeros(x.shape[1], dtype=np.float64), float(np.log(clipped / (1 - clipped)))
    stacked = sp.vstack([x, x]).tocsr() if sp.issparse(x) else np.vstack([x, x])
    model = LogisticRegression(C=c, max_iter=5000, random_state=seed)
    model.fit(stacked, np.r_[np.ones(n), np.zeros(n)], sample_weight=np.r_[w * p, w * (1.0 - p)])
    return np.asarray(model.coef_[0], dtype=np.float64), float(model.intercept_[0])


def fold_indices(n: int, seed: int = 0, folds: int = FOLDS) -> list[NDArray[np.int64]]:
    """The held-out rows of each fold (a seeded permutation dealt round-robin)."""
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(order[k::folds]) for k in range(folds)]


def out_of_fold_logits(
    x: Matrix,
    p: NDArray[np.float64],
    c: float,
    seed: int = 0,
    folds: int = FOLDS,
    weight: NDArray[np.float64] | None = None,
) -> NDArray[np.float64]:
    """Logits of each row from a model fitted without it (K-fold; every row gets one).

    Used for calibration (the score distribution of prompts the model has not seen), to fit
    blends without leaking, and for cross-validation. Rows with zero ``weight`` are never
    fitted on but are still scored.
    """
    w = np.ones(x.shape[0]) if weight is None else weight
    out = np.zeros(x.shape[0], dtype=np.float64)
    for held in fold_indices(x.shape[0], seed, folds):
        keep = np.setdiff1d(np.arange(x.shape[0]), held)
        coef, b = fit_soft_logistic(x[keep], p[keep], c, seed, w[keep])
        out[held] = np.asarray(x[held] @ coef).ravel() + b
    return out


def fit_platt(
    logits: NDArray[np.float64], labels: NDArray[np.int64], weight: NDArray[np.float64] | None = None
) -> tuple[float, float]:
    """Platt scaling: (a, b) of ``sigmoid(a * logit + b)`` fitted to binary labels (nearly unregularised).

    The map must be strictly increasing; where the data cannot give one (no labelled rows of
    both classes, or out-of-fold logits that do not rank the labels at all), it is the identity.
    """
    from sklearn.linear_model import LogisticRegression

    if logits.size < 2 or np.unique(labels).size < 2:
        return 1.0, 0.0
    model = LogisticRegression(C=1e4, max_iter=5000)
    model.fit(logits.reshape(-1, 1), labels, sample_weight=weight)
    a, b = float(model.coef_[0][0]), float(model.intercept_[0])
    return (a, b) if a > 0 else (1.0, 0.0)


def roc_auc(scores: NDArray[np.float64], labels: NDArray[np.int64]) -> float:
    from routers.metrics import roc_auc as auc

    return auc([float(v) for v in scores], [int(v) for v in labels])


def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)
