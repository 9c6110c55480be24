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


@dataclass(frozen=True, slots=True)
class RouterOptions:
    """What every factory may use: where artifacts live and a seed."""

    artifacts: Path = ARTIFACTS_DIR
    seed: int = 0


class UnknownRouter(ValueError):
    """No router is registered under that name."""


def _random(options: RouterOptions) -> Router:
    from routers.random_ import RandomRouter

    return RandomRouter(seed=options.seed)


def _heuristic(options: RouterOptions) -> Router:
    from routers.heuristic import HeuristicRouter

    return HeuristicRouter.from_artifacts(options.artifacts)


def _ngram(options: RouterOptions) -> Router:
    from routers.ngram import NgramRouter

    return NgramRouter.from_artifacts(options.artifacts / "ngram")


def _static(options: RouterOptions) -> Router:
    from routers.static import StaticRouter

    return StaticRouter.from_artifacts(options.artifacts / "static")


def _ensemble(options: RouterOptions) -> Router:
    from routers.ensemble import EnsembleRouter

    return EnsembleRouter.from_artifacts(options.artifacts / "ensemble")


def _embedding(options: RouterOptions) -> Router:
    from routers.embedding import EmbeddingRouter

    return EmbeddingRouter.from_artifacts(options.artifacts / "embedding")


ROUTERS: dict[str, Callable[[RouterOptions], Router]] = {
    "random": _random,
    "heuristic": _heuristic,
    "ngram": _ngram,
    "static": _static,
    "ensemble": _ensemble,
    "embedding": _embedding,
}

# The router of the ``auto`` profile: the best on routing-dev among those with p50 <= 1 ms
# at batch 1 for a 100-word prompt (see routers/README.md). ``embedding`` backs ``auto-precise``.
DEFAULT_ROUTER: str = "ensemble"
PRECISE_ROUTER: str = "embedding"


def build_router(name: str, options: RouterOptions | None = None) -> Router:
    """Build the router registered as ``name`` with its default artifact."""
    factory = ROUTERS.get(name)
    if factory is None:
        known = ", ".join(sorted(ROUTERS))
        raise UnknownRouter(f"unknown router {name!r}; known routers: {known}")
    return factory(options or RouterOptions())
