"""Shared pieces of the learned routers: artifact loading, a linear head, a sync router base.

Each learned router keeps its files in ``routers/artifacts/<name>/``: ``card.json``
(training data, date, git SHA, dev metrics, calibration table), ``calibration.json``
(101 score quantiles on the training prompts) and its weights.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routers.base import Conversation, MissingArtifact, RouterScore, prompt_text
from routers.calibration import Calibration

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


def _sigmoid(z: float) -> float:
    if z >= 0:
        return 1.0 / (1.0 + math.exp(-z))
    e = math.exp(z)
    return e / (1.0 + e)


def require(folder: Path, *names: str) -> None:
    """Fail with ``MissingArtifact`` (a ``RouterUnavailable`` and an ``OSError``) if a file is missing."""
    missing = [n for n in names if not (folder / n).exists()]
    if missing:
        raise MissingArtifact(f"missing router artifact(s) in {folder}: {', '.join(missing)}")


def load_calibration(folder: Path) -> Calibration:
    path = folder / "calibration.json"
    return Calibration.load(path) if path.exists() else Calibration.uniform()


def load_card(folder: Path) -> dict[str, Any]:
    path = folder / "card.json"
    data: dict[str, Any] = json.loads(path.read_text()) if path.exists() else {}
    return data


@dataclass(frozen=True, slots=True)
class LinearHead:
    """``sigmoid(x @ weights + bias)``: a logistic model over a feature vector."""

    weights: NDArray[np.float32]
    bias: float

    @classmethod
    def load(cls, path: Path) -> LinearHead:
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            return cls(data["weights"].astype(np.float32), float(data["bias"]))

    def dump(self, path: Path) -> None:
        import numpy as np

        np.savez(path, weights=self.weights.astype(np.float32), bias=np.float64(self.bias))

    def logits(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        import numpy as np

        return np.asarray(features @ self.weights, dtype=np.float64) + self.bias


class SyncRouter:
    """Base for routers fast enough (well under 1 ms) to score on the event loop itself.

    Subclasses implement ``logits``; the score is their logistic. The view of each
    conversation is ``prompt_text``.
    """

    def __init__(self, name: str, calibration: Calibration | None = None) -> None:
        self.name = name
        self.calibration = calibration or Calibration.uniform()

    def logits(self, texts: Sequence[str]) -> list[float]:
        raise NotImplementedError

    def score_texts(self, texts: Sequence[str]) -> list[float]:
        return [_sigmoid(z) for z in self.logits(texts)]

    async def score(self, messages: Conversation) -> RouterScore:
        return (await self.score_batch([messages]))[0]

    async def score_batch(self, conversations: Sequence[Conversation]) -> list[RouterScore]:
        start = time.perf_counter()
        values = self.score_texts([prompt_text(c) for c in conversations])
        each = (time.perf_counter() - start) / max(len(conversations), 1)
        return [RouterScore(min(max(v, 0.0), 1.0), self.name, each) for v in values]

    async def aclose(self) -> None:
        return None
