"""The n-gram feature matrix of many texts (scipy sparse; training only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray


def ngram_matrix(texts: Sequence[str], idf: NDArray[np.float32]) -> Any:
    """Rows of ``routers.ngram.featurize``: the hashed buckets, then the dense features."""
    import scipy.sparse as sp

    from routers.ngram import DENSE, HASH_BITS, featurize

    feats = [featurize(t, idf) for t in texts]
    rows = np.concatenate([np.full(f.indices.size, i) for i, f in enumerate(feats)])
    cols = np.concatenate([f.indices for f in feats])
    vals = np.concatenate([f.values for f in feats])
    sparse = sp.csr_matrix((vals, (rows, cols)), shape=(len(texts), 2**HASH_BITS))
    dense = np.stack([f.dense for f in feats]).reshape(len(texts), DENSE)
    return sp.hstack([sparse, sp.csr_matrix(dense)]).tocsr()


def ngram_idf(texts: Sequence[str]) -> NDArray[np.float32]:
    from routers.ngram import HASH_BITS

    counts = ngram_matrix(texts, np.ones(2**HASH_BITS, dtype=np.float32))[:, : 2**HASH_BITS]
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    return (np.log((1.0 + len(texts)) / (1.0 + df)) + 1.0).astype(np.float32)
