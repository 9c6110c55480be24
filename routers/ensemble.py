"""The ``ensemble`` router: a logistic blend of the ``ngram`` and ``static`` logits.

``score = sigmoid(sum_i weight_i * logit_i + bias)``; the weights are fitted on
out-of-fold logits of the training prompts (``routers.training``), so the blend never
sees a member's in-sample scores. Both members are sub-millisecond, so the blend is too.
``blend.json`` names the member folders relative to the ensemble's own folder.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from routers.artifact import SyncRouter, load_calibration, require
from routers.ngram import NgramRouter
from routers.static import StaticRouter

MEMBER_TYPES: Mapping[str, type[NgramRouter] | type[StaticRouter]] = MappingProxyType(
    {"ngram": NgramRouter, "static": StaticRouter}
)


class EnsembleRouter(SyncRouter):
    """Weighted sum of member logits."""

    def __init__(
        self, members: Sequence[SyncRouter], weights: Sequence[float], bias: float, name: str = "ensemble", **kw: Any
    ) -> None:
        super().__init__(name=name, **kw)
        if len(members) != len(weights):
            raise ValueError("one weight per member")
        self.members = tuple(members)
        self.weights = tuple(float(w) for w in weights)
        self.bias = float(bias)

    @classmethod
    def from_artifacts(cls, folder: Path) -> EnsembleRouter:
        require(folder, "blend.json")
        blend = json.loads((folder / "blend.json").read_text())
        members = [MEMBER_TYPES[m["type"]].from_artifacts((folder / m["path"]).resolve()) for m in blend["members"]]
        weights = [float(m["weight"]) for m in blend["members"]]
        return cls(members, weights, float(blend["bias"]), calibration=load_calibration(folder))

    def logits(self, texts: Sequence[str]) -> list[float]:
        columns = [m.logits(texts) for m in self.members]
        return [
            self.bias + sum(w * col[i] for w, col in zip(self.weights, columns, strict=True)) for i in range(len(texts))
        ]
