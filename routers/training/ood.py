"""Fitting the out-of-distribution check (``routers.ood``): centre, centroids and thresholds.

The outcome prompts and the everyday train prompts are clustered separately (``CENTROIDS``
each), so the 611 everyday prompts are not swamped by 9,199 benchmark questions. The
similarity threshold is the ``QUANTILE`` quantile of the training prompts' largest similarity
to a centroid, measured out of fold (centroids fitted on the other folds), so about 99% of
unseen prompts like the training ones pass; the stored centroids are then fitted on all rows.
The word-piece threshold is the ``PIECE_QUANTILE`` quantile of the training prompts' shares.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from routers.ood import OodDetector
from routers.training.fit import fold_indices

CENTROIDS = (160, 96)  # outcome prompts, everyday prompts
QUANTILE = 0.01
PIECE_QUANTILE = 0.999


def centroids(x: NDArray[np.float32], everyday: NDArray[np.bool_], seed: int) -> NDArray[np.float16]:
    """Unit centroids of the (already centred) rows, per source."""
    from sklearn.cluster import KMeans

    parts = []
    for mask, k in zip((~everyday, everyday), CENTROIDS, strict=True):
        rows = x[mask & (np.linalg.norm(x, axis=1) > 0)]
        model = KMeans(n_clusters=min(k, len(rows)), n_init=1, random_state=seed).fit(rows)
        c = model.cluster_centers_
        parts.append(c / (np.linalg.norm(c, axis=1, keepdims=True) + 1e-12))
    return np.concatenate(parts).astype(np.float16)


def fit_detector(
    x: NDArray[np.float32], piece_share: NDArray[np.float32], everyday: NDArray[np.bool_], seed: int = 0
) -> OodDetector:
    mean = x[np.linalg.norm(x, axis=1) > 0].mean(axis=0).astype(np.float32)
    centred = OodDetector(np.zeros((1, x.shape[1]), dtype=np.float16), mean, 0.0).centre(x)
    sims = np.zeros(len(x), dtype=np.float32)
    for held in fold_indices(len(x), seed):
        keep = np.setdiff1d(np.arange(len(x)), held)
        probe = OodDetector(centroids(centred[keep], everyday[keep], seed), np.zeros_like(mean), 0.0)
        sims[held] = (centred[held] @ probe.centroids.astype(np.float32).T).max(axis=1)
    threshold = float(np.quantile(sims, QUANTILE))
    piece_threshold = float(np.quantile(piece_share, PIECE_QUANTILE))
    return OodDetector(centroids(centred, everyday, seed), mean, threshold, piece_threshold)
