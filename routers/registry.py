"""Router registry: a plain name-to-factory dict.

The registry key equals the ``router`` value in a profile. An unknown name fails at
start-up; there is no silent default. Factories import heavy libraries themselves,
so choosing ``heuristic`` never loads onnxruntime.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from routers.base import Router

ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
# Hand-labelled everyday prompts (train rows for training, heldout rows for evaluation only).
EVERYDAY = Path(__file__).resolve().parent / "data" / "everyday" / "everyday.jsonl"
# Real GPT-4 vs Mixtral outcomes (lm-sys/RouteLLM data, Apache-2.0; see routers/data/routing/README.md and NOTICE).
ROUTING_TRAIN = Path(__file__).resolve().parent / "data" / "routing" / "routing-train.jsonl"
ROUTING_DEV = Path(__file__).resolve().parent / "data" / "routing" / "routing-dev.jsonl"


@dataclass(frozen=True, slots=True)
class RouterOptions:
    """What every factory may use: where artifacts live and a seed."""

    artifacts: Path = ARTIFACTS_DIR
    seed: int = 0
    folder: Path | None = None  # the router's own folder (e.g. retrained on outcomes); default artifacts/<name>

    def folder_for(self, name: str) -> Path:
        return self.folder if self.folder is not None else self.artifacts / name


class UnknownRouter(ValueError):
    """No router is registered under that name."""


def _random(options: RouterOptions) -> Router:
    from routers.random_ import RandomRouter

    return RandomRouter(seed=options.seed)


def _heuristic(options: RouterOptions) -> Router:
    from routers.heuristic import HeuristicRouter

    return HeuristicRouter.from_artifacts(options.folder or options.artifacts)


def _ngram(options: RouterOptions) -> Router:
    from routers.ngram import NgramRouter

    return NgramRouter.from_artifacts(options.folder_for("ngram"))


def _static(options: RouterOptions) -> Router:
    from routers.static import StaticRouter

    return StaticRouter.from_artifacts(options.folder_for("static"))


def _ensemble(options: RouterOptions) -> Router:
    from routers.ensemble import EnsembleRouter

    return EnsembleRouter.from_artifacts(options.folder_for("ensemble"))


def _embedding(options: RouterOptions) -> Router:
    from routers.embedding import EmbeddingRouter

    return EmbeddingRouter.from_artifacts(options.folder_for("embedding"))


ROUTERS: dict[str, Callable[[RouterOptions], Router]] = {
    "random": _random,
    "heuristic": _heuristic,
    "ngram": _ngram,
    "static": _static,
    "ensemble": _ensemble,
    "embedding": _embedding,
}

# The router of the ``auto`` profile: the best under 5-fold CV on routing-train + everyday train
# (out-of-fold APGR and everyday AUC) among those with p50 <= 1 ms at batch 1 for a 100-word
# prompt (see routers/README.md). ``embedding`` backs ``auto-precise``.
DEFAULT_ROUTER: str = "ensemble"
PRECISE_ROUTER: str = "embedding"


def build_router(name: str, options: RouterOptions | None = None) -> Router:
    """Build the router registered as ``name`` with its default artifact."""
    factory = ROUTERS.get(name)
    if factory is None:
        known = ", ".join(sorted(ROUTERS))
        raise UnknownRouter(f"unknown router {name!r}; known routers: {known}")
    return factory(options or RouterOptions())
