"""The semantic cache's in-process index: exact cosine search per bucket, TTL, bounds."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from gateway.cache.guards import facts
from gateway.cache.semantic_index import SemanticIndex

FACTS = facts("a question")


def unit(*values: float) -> NDArray[np.float32]:
    vector = np.asarray(values, dtype=np.float32)
    return np.asarray(vector / np.linalg.norm(vector), dtype=np.float32)


def test_search_returns_the_similar_entries_of_the_bucket_only_most_similar_first() -> None:
    index = SemanticIndex(100, clock=lambda: 0.0)
    index.add("b", "close", unit(1, 0.1, 0), FACTS, 10)
    index.add("b", "closest", unit(1, 0.01, 0), FACTS, 10)
    index.add("b", "far", unit(0, 1, 0), FACTS, 10)
    index.add("other", "elsewhere", unit(1, 0, 0), FACTS, 10)
    matches = index.search("b", unit(1, 0, 0), threshold=0.9)
    assert [m.key for m in matches] == ["closest", "close"]
    assert matches[0].similarity > matches[1].similarity >= 0.9
    assert index.search("nobody", unit(1, 0, 0), 0.5) == []
    assert index.search("b", unit(1, 0, 0, 0), 0.5) == [], "another encoder's dimensions never match"
    assert len(index) == 4


def test_entries_expire_and_are_pruned() -> None:
    now = [0.0]
    index = SemanticIndex(100, clock=lambda: now[0])
    index.add("b", "short", unit(1, 0), FACTS, 5)
    index.add("b", "long", unit(1, 0.01), FACTS, 50)
    index.add("b", "already-gone", unit(1, 0.02), FACTS, 0)
    assert len(index) == 2
    now[0] = 5.0
    assert [m.key for m in index.search("b", unit(1, 0), 0.9)] == ["long"], "expired entries never match"
    assert index.prune() == 1 and len(index) == 1


def test_a_key_is_stored_once_and_a_removed_row_is_filled_by_the_last() -> None:
    now = [0.0]
    index = SemanticIndex(100, clock=lambda: now[0])
    for _ in range(3):
        index.add("b", "k", unit(1, 0), FACTS, 10)  # e.g. read back from the shared stream
    assert len(index) == 1
    index.add("b", "k2", unit(0, 1), FACTS, 20)
    index.add("b", "k3", unit(0.01, 1), FACTS, 20)
    now[0] = 10.0
    assert index.prune() == 1, "k goes; k3 moves into its row"
    assert [m.key for m in index.search("b", unit(0, 1), 0.9)] == ["k2", "k3"]
    now[0] = 20.0
    assert index.prune() == 2 and len(index) == 0 and index.rows("b") == 0


def test_over_its_bound_the_index_drops_the_soonest_to_expire() -> None:
    index = SemanticIndex(10, clock=lambda: 0.0)
    for i in range(11):
        index.add(f"bucket-{i % 3}", f"k{i}", unit(1, i), FACTS, 100 + i)
    assert len(index) == 9, "down to 90% of the bound"
    kept = {m.key for b in range(3) for m in index.search(f"bucket-{b}", unit(1, 0), -1.0, limit=20)}
    assert kept == {f"k{i}" for i in range(2, 11)}


def test_buckets_grow_past_their_first_allocation() -> None:
    index = SemanticIndex(1000, clock=lambda: 0.0)
    rng = np.random.default_rng(0)
    vectors = [unit(*rng.normal(size=8)) for _ in range(100)]
    for i, vector in enumerate(vectors):
        index.add("b", f"k{i}", vector, FACTS, 10)
    for i in (0, 57, 99):
        assert index.search("b", vectors[i], 0.999)[0].key == f"k{i}"


def test_candidates_scanned_off_the_loop_are_checked_again_on_it() -> None:
    now = [0.0]
    index = SemanticIndex(100, clock=lambda: now[0])
    index.add("b", "first", unit(1, 0), FACTS, 10)
    index.add("b", "second", unit(1, 0.01), FACTS, 10)
    rows = index.scan("b", unit(1, 0), 0.9)
    index.add("b", "first", unit(1, 0), FACTS, 0.5)  # the bucket changed while the scan ran on a worker thread
    now[0] = 1.0
    assert [m.key for m in index.verify("b", unit(1, 0), 0.9, rows)] == ["second"]
    index.add("b", "second", unit(0, 1), FACTS, 10)  # replaced by a dissimilar vector
    assert index.verify("b", unit(1, 0), 0.9, rows) == []
