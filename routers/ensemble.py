"""The ``ensemble`` router: one domain-gated blend over the ``ngram`` and ``static`` heads.

Both members compute their heads (``outcome``, ``everyday``, ``domain``; see
``routers.blend``); the ensemble's ``blend.json`` names the member folders (relative to its
own folder) and weighs their heads, gated by ``ngram.domain``. The blend weights are fitted
on out-of-fold head logits of the training prompts (``routers.training``), so the blend
never sees a member's in-sample scores; the Platt map is fitted on out-of-fold blend logits.
The out-of-distribution flag comes from the static member (``routers.ood``). Both members
are sub-millisecond, so the blend is too.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from routers.artifact import SyncRouter, load_blend, load_calibration
from routers.blend import GatedBlend
from routers.ngram import NgramRouter
from routers.static import StaticRouter


class EnsembleRouter(SyncRouter):
    """The gated blend of the n-gram and static heads."""

    def __init__(
        self, ngram: NgramRouter, static: StaticRouter, blend: GatedBlend, name: str = "ensemble", **kw: Any
    ) -> None:
        super().__init__(name=name, platt=blend.platt, **kw)
        self.ngram = ngram
        self.static = static
        self.blend = blend

    @classmethod
    def from_artifacts(cls, folder: Path) -> EnsembleRouter:
        blend = load_blend(folder)
        paths = {m["type"]: m["path"] for m in json.loads((folder / "blend.json").read_text())["members"]}
        ngram = NgramRouter.from_artifacts((folder / paths["ngram"]).resolve())
        static = StaticRouter.from_artifacts((folder / paths["static"]).resolve())
        return cls(ngram, static, blend, calibration=load_calibration(folder))

    def head_logits(self, texts: Sequence[str]) -> tuple[list[dict[str, float]], list[bool]]:
        static, ood = self.static.embed(texts)
        heads = [{**n, **s} for n, s in zip(self.ngram.head_logits(texts), static, strict=True)]
        return heads, ood

    def assess(self, texts: Sequence[str]) -> tuple[list[float], list[bool]]:
        heads, ood = self.head_logits(texts)
        return [self.blend.logit(h) for h in heads], ood

    def logits(self, texts: Sequence[str]) -> list[float]:
        return self.assess(texts)[0]
