"""Token log-probabilities for ``logprobs: true`` (and ``top_logprobs: N``), shaped as OpenAI returns them.

Each content token gets ``{"token", "logprob", "bytes", "top_logprobs"}``; ``top_logprobs`` holds exactly N
entries: the token itself and N-1 alternative vocabulary words, sorted by log-probability, whose
probabilities sum to at most 1. Values are deterministic in (seed, model, choice index, token position, token).
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from typing import Any

from gateway.simulator.content import VOCAB


def _top(token: str, logprob: float) -> dict[str, Any]:
    return {"token": token, "logprob": logprob, "bytes": list(token.encode("utf-8"))}


def _entry(token: str, top_n: int, rng: random.Random) -> dict[str, Any]:
    chosen = round(-(rng.uniform(0.01, 1.2) ** 2), 6)
    alternatives = [" " + word for word in VOCAB if " " + word != token]
    rng.shuffle(alternatives)
    share, top = 1.0 - math.exp(chosen), [_top(token, chosen)]
    for alternative in alternatives[: max(top_n - 1, 0)]:
        share *= rng.uniform(0.1, 0.45)  # the shares sum to < 1 - p(token)
        top.append(_top(alternative, round(math.log(share), 6)))
    top.sort(key=lambda entry: -float(entry["logprob"]))
    return {**_top(token, chosen), "top_logprobs": top[:top_n]}


def token_logprobs(pieces: Sequence[str], top_n: int, key: str) -> tuple[dict[str, Any], ...]:
    """One logprob entry per content token in ``pieces``; ``key`` (with each position and token) seeds it.

    A token's own logprob, and the first alternatives, do not depend on ``top_n``.
    """
    return tuple(
        _entry(piece, top_n, random.Random(f"logprobs\x1f{key}\x1f{position}\x1f{piece}"))
        for position, piece in enumerate(pieces)
    )


def logprobs_field(entries: Sequence[dict[str, Any]] | None) -> dict[str, Any] | None:
    """A choice's (or a chunk choice's) ``logprobs`` value: None when logprobs were not requested."""
    return None if entries is None else {"content": list(entries), "refusal": None}
