"""Shared fixtures: which routers load real model weights, and conversations to score."""

from __future__ import annotations

import pytest

# Routers whose artifacts hold real model weights (static table, ONNX encoder).
MODEL_ROUTERS = ("static", "ensemble", "embedding")
FAST_ROUTERS = ("random", "heuristic", "ngram")


def router_params() -> list[object]:
    return [pytest.param(n) for n in FAST_ROUTERS] + [pytest.param(n, marks=pytest.mark.model) for n in MODEL_ROUTERS]


CONVERSATIONS = [
    [{"role": "user", "content": "What is 2 + 2?"}],
    [
        {"role": "system", "content": "You are a careful assistant."},
        {"role": "user", "content": "Prove that there are infinitely many primes."},
    ],
    [{"role": "user", "content": [{"type": "text", "text": "Write a haiku about autumn."}]}],
    [
        {"role": "user", "content": "Here is my code: def f(x): return x * 2"},
        {"role": "assistant", "content": "It doubles x."},
        {"role": "user", "content": "Now make it handle lists of numbers and explain the complexity."},
    ],
    [{"role": "user", "content": ""}],
]
