"""The n-gram featuriser: deterministic, bounded, numpy only."""

from __future__ import annotations

import numpy as np

from routers.ngram import DENSE, HASH_BITS, featurize


def test_featurize_is_deterministic_and_normalised() -> None:
    idf = np.ones(2**HASH_BITS, dtype=np.float32)
    a = featurize("What is the derivative of x^2?", idf)
    b = featurize("What is the derivative of x^2?", idf)
    assert np.array_equal(a.indices, b.indices) and np.array_equal(a.values, b.values)
    assert a.indices.min() >= 0 and a.indices.max() < 2**HASH_BITS
    assert a.dense.shape == (DENSE,)
    # two L2-normalised blocks (words, characters)
    assert abs(float((a.values**2).sum()) - 2.0) < 1e-4


def test_featurize_handles_empty_and_tiny_texts() -> None:
    idf = np.ones(2**HASH_BITS, dtype=np.float32)
    assert featurize("", idf).indices.size == 0
    assert featurize("a", idf).indices.size == 1  # one word, no 3-gram
    assert featurize("héllo wörld ✓", idf).indices.size > 0
