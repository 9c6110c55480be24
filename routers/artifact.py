"""Shared pieces of the learned routers: artifact loading, a linear head, a sync router base.

Each learned router keeps its files in ``routers/artifacts/<name>/``: ``card.json``
(training data, date, git SHA, dev metrics, calibration table), ``calibration.json``
(101 score quantiles on the training prompts) and its weights.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from routers.base import Conversation, MissingArtifact, RouterScore, prompt_text
from routers.blend import GatedBlend, Platt
from routers.calibration import Calibration

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


def load_blend(folder: Path) -> GatedBlend:
    require(folder, "blend.json")
    return GatedBlend.load(folder / "blend.json")


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
class Heads:
    """Named linear heads over one feature vector: ``x @ weights + bias``, one column per head."""

    names: tuple[str, ...]
    weights: NDArray[np.float32]  # (features, heads)
    bias: NDArray[np.float64]  # (heads,)

    @classmethod
    def load(cls, path: Path) -> Heads:
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            names = tuple(str(n) for n in data["names"])
            return cls(names, data["weights"].astype(np.float32), data["bias"].astype(np.float64))

    def dump(self, path: Path) -> None:
        import numpy as np

        np.savez(path, names=np.asarray(self.names), weights=self.weights.astype(np.float32), bias=self.bias)

    def logits(self, features: NDArray[np.float32]) -> NDArray[np.float64]:
        """(n, heads) logits of (n, features) rows."""
        import numpy as np

        return np.asarray(features @ self.weights, dtype=np.float64) + self.bias

    def by_name(self, prefix: str, features: NDArray[np.float32]) -> list[dict[str, float]]:
        """One ``{"<prefix>.<head>": logit}`` mapping per row."""
        keys = [f"{prefix}.{n}" for n in self.names]
        return [dict(zip(keys, (float(v) for v in row), strict=True)) for row in self.logits(features)]


class SyncRouter:
    """Base for routers fast enough (well under 1 ms) to score on the event loop itself.

    Subclasses implement ``logits`` (or ``assess``, which also gives the out-of-distribution
    flags); the score is ``platt(logit)`` (the plain logistic unless a Platt map is given).
    The view of each conversation is ``prompt_text``.
    """

    def __init__(self, name: str, calibration: Calibration | None = None, platt: Platt | None = None) -> None:
        self.name = name
        self.calibration = calibration or Calibration.uniform()
        self.platt = platt or Platt()

    def logits(self, texts: Sequence[str]) -> list[float]:
        raise NotImplementedError

    def assess(self, texts: Sequence[str]) -> tuple[list[float], list[bool]]:
        """The logits and the out-of-distribution flags (all False unless a subclass can tell)."""
        return self.logits(texts), [False] * len(texts)

    def score_texts(self, texts: Sequence[str]) -> list[float]:
        return [self.platt(z) for z in self.assess(texts)[0]]

    async def score(self, messages: Conversation) -> RouterScore:
        return (await self.score_batch([messages]))[0]

    async def score_batch(self, conversations: Sequence[Conversation]) -> list[RouterScore]:
        start = time.perf_counter()
        logits, ood = self.assess([prompt_text(c) for c in conversations])
        values = [min(max(self.platt(z), 0.0), 1.0) for z in logits]
        each = (time.perf_counter() - start) / max(len(conversations), 1)
        return [RouterScore(v, self.name, each, o) for v, o in zip(values, ood, strict=True)]

    async def aclose(self) -> None:
        return None
