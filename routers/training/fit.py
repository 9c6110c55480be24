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


def fit_soft_logistic(x: Matrix, p: NDArray[np.float64], c: float, seed: int = 0) -> tuple[NDArray[np.float64], float]:
    """Logistic regression on soft labels; returns (weights, bias)."""
    import scipy.sparse as sp
    from sklearn.linear_model import LogisticRegression

    n = x.shape[0]
    stacked = sp.vstack([x, x]).tocsr() if sp.issparse(x) else np.vstack([x, x])
    model = LogisticRegression(C=c, max_iter=5000, random_state=seed)
    model.fit(stacked, np.r_[np.ones(n), np.zeros(n)], sample_weight=np.r_[p, 1.0 - p])
    return np.asarray(model.coef_[0], dtype=np.float64), float(model.intercept_[0])


def out_of_fold_logits(
    x: Matrix, p: NDArray[np.float64], c: float, seed: int = 0, folds: int = FOLDS
) -> NDArray[np.float64]:
    """Logits of each training row from a model fitted without it (K-fold).

    Used for calibration (the score distribution of prompts the model has not seen)
    and to fit the ensemble's blend without leaking.
    """
    order = np.random.default_rng(seed).permutation(x.shape[0])
    out = np.zeros(x.shape[0], dtype=np.float64)
    for k in range(folds):
        held = order[k::folds]
        keep = np.setdiff1d(order, held)
        w, b = fit_soft_logistic(x[keep], p[keep], c, seed)
        out[held] = np.asarray(x[held] @ w).ravel() + b
    return out


def sigmoid(z: NDArray[np.float64]) -> NDArray[np.float64]:
    return np.asarray(1.0 / (1.0 + np.exp(-z)), dtype=np.float64)
